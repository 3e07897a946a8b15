// The project side of bench/agent-runs: the gateway and agent-runner as real processes, a run created
// with POST /v1/agent-runs and seen to end on its SSE stream, and where a run's time went (its event log).
import type { ChildProcess } from 'node:child_process';
import type { Knex } from 'knex';
import { freePort } from '../scripts/lib/local-stack';
import { spawnService, waitForExit, waitForHttp } from '../scripts/lib/service-process';
import { median } from './agent-runs-measure';
import type { RunOnce } from './agent-runs-measure';

export interface BenchService {
  name: string;
  child: ChildProcess & { output: string[] };
  url: string;
}

const PORT_VARIABLE = { gateway: 'PORT', 'agent-runner': 'AGENT_RUNNER_PORT' } as const;

/**
 * Starts the service from its sources under tsx, as `npm start` and the end-to-end tests do, and resolves
 * once it answers /health/live. Not the dist bundles: they require @google/genai, which the lockfile installs
 * under shared/node_modules, out of their reach.
 */
export async function startService(
  name: 'gateway' | 'agent-runner',
  env: NodeJS.ProcessEnv,
): Promise<BenchService> {
  const port = await freePort();
  const child = spawnService(name, { ...env, [PORT_VARIABLE[name]]: String(port) }, 'capture');
  const svc: BenchService = { name, child, url: `http://127.0.0.1:${port}` };
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}):\n${child.output.slice(-40).join('\n')}`)),
    ),
  );
  died.catch(() => undefined);
  await Promise.race([waitForHttp(`${svc.url}/health/live`, 60_000), died]);
  return svc;
}

/** Lines a service logged at warn or above (pino level ≥ 40): a clean run logs none. */
export function warnings(svc: BenchService): string[] {
  return svc.child.output.filter((line) => /"level":\s*[4-6]\d/.test(line));
}

export async function stopServices(services: BenchService[]): Promise<void> {
  for (const s of services) s.child.kill('SIGTERM');
  await Promise.all(services.map((s) => waitForExit(s.child, 10_000)));
}

export interface ApiRun {
  id: string;
  /** Date.now() when the POST was sent and when the end of the stream was read (same clock as Postgres). */
  postedAt: number;
  acceptedAt: number;
  seenAt: number;
}

/** POST a research run, then read its SSE stream, which the gateway ends after the terminal status. */
export function apiRunner(gatewayUrl: string, token: string, workspaceId: string): RunOnce<ApiRun> {
  const headers = { authorization: `Bearer ${token}`, 'x-workspace-id': workspaceId };
  return async (i) => {
    const postedAt = Date.now();
    const res = await fetch(`${gatewayUrl}/v1/agent-runs`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'cognition', input: { topic: `bench topic ${i}` } }),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 202) throw new Error(`POST /v1/agent-runs: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    const acceptedAt = Date.now();
    const stream = await fetch(`${gatewayUrl}/v1/agent-runs/${id}/events`, {
      headers: { ...headers, accept: 'text/event-stream' },
      signal: AbortSignal.timeout(30_000),
    });
    if (stream.status !== 200) throw new Error(`GET events of ${id}: ${stream.status}`);
    const body = await stream.text();
    const seenAt = Date.now();
    const statuses = [...body.matchAll(/^event: status\ndata: (.*)$/gm)].map(
      (m) => (JSON.parse(m[1]!) as { status: string }).status,
    );
    if (statuses.at(-1) !== 'completed') throw new Error(`run ${id} ended ${statuses.join(' → ')}`);
    return { id, postedAt, acceptedAt, seenAt };
  };
}

interface EventRow {
  run_id: string;
  type: string;
  status: string | null;
  step: string | null;
  at: number;
}

/**
 * Medians of where sequential runs spent their time, from the run event log. An event's created_at is its
 * transaction's start (now()): `running` marks the start of the claim transaction, `completed` the start of
 * the finish transaction; step events are single statements.
 */
export async function breakdown(db: Knex, runs: ApiRun[]): Promise<string[]> {
  const rows = await db('agent_run_events')
    .whereIn(
      'run_id',
      runs.map((r) => r.id),
    )
    .orderBy('id')
    .select<EventRow[]>(
      'run_id',
      'type',
      db.raw(`data->>'status' AS status`),
      db.raw(`data->>'step' AS step`),
      db.raw('(extract(epoch FROM created_at) * 1000)::float8 AS at'),
    );
  const byRun = new Map<string, EventRow[]>();
  for (const r of rows) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
  const spans = new Map<string, number[]>();
  const add = (label: string, v: number) => spans.set(label, [...(spans.get(label) ?? []), v]);
  for (const run of runs) {
    const ev = byRun.get(run.id) ?? [];
    const at = (type: string, key: string) =>
      ev.find((e) => e.type === type && (e.status === key || e.step === key))?.at ?? NaN;
    const [queued, running, completed] = ['queued', 'running', 'completed'].map((s) => at('status', s)) as [
      number,
      number,
      number,
    ];
    add('POST sent → queued (API: auth, agent lookup, run + event + outbox rows)', queued - run.postedAt);
    add('queued → claim started (commit, outbox → BullMQ, worker pickup)', running - queued);
    const STEPS = ['recall', 'plan', 'gather', 'synthesize', 'remember'];
    const WHAT: Record<string, string> = {
      recall: 'begin: step row + event; memory check (empty: no embedding); end: step row + event',
      remember: 'begin; embed findings + brief, items + audit rows, cost sum; end: step row + event',
    };
    add(
      'claim started → recall started (claim, agent + guardrails, graph start)',
      at('step.started', STEPS[0]!) - running,
    );
    let prev = STEPS[0]!;
    for (const step of STEPS) {
      if (step !== prev)
        add(
          `${prev} done → ${step} started (checkpoint, next node)`,
          at('step.started', step) - at('step.completed', prev),
        );
      add(
        `${step} step (${WHAT[step] ?? 'begin: step row + event; 1 dispatch; end: step row + audit row + event + cost sum'})`,
        at('step.completed', step) - at('step.started', step),
      );
      prev = step;
    }
    add(
      'remember done → finish started (last checkpoint, output)',
      completed - at('step.completed', 'remember'),
    );
    add('finish started → end seen on SSE (finish commit, Redis nudge, stream read)', run.seenAt - completed);
  }
  return [...spans].map(([label, v]) => `${label}: ${median(v).toFixed(1)} ms`);
}

/** Rows one run leaves behind, averaged over `ids`: the persistence the baseline does not do. */
export async function footprint(db: Knex, ids: string[]): Promise<string> {
  const count = async (table: string, column: string) => {
    const [row] = await db(table).whereIn(column, ids).count<{ n: string }[]>('* as n');
    return (Number(row?.n) / ids.length).toFixed(1);
  };
  // agent.run.requested names the run; each cost.recorded names a cost row of the run.
  const outbox = await db('event_outbox')
    .whereRaw(`envelope->'payload'->>'agent_run_id' = ANY(?)`, [ids])
    .orWhereRaw(
      `envelope->'payload'->>'cost_log_id' IN (SELECT id::text FROM cost_logs WHERE agent_run_id = ANY(?))`,
      [ids],
    )
    .count<{ n: string }[]>('* as n');
  const parts = [
    `${await count('agent_run_events', 'run_id')} run events`,
    `${await count('agent_run_steps', 'run_id')} step rows`,
    `${await count('cost_logs', 'agent_run_id')} cost rows`,
    `${await count('audit_logs', 'agent_run_id')} audit rows`,
    `${await count('langgraph.checkpoints', 'thread_id')} checkpoints`,
    `${await count('langgraph.checkpoint_writes', 'thread_id')} checkpoint writes`,
    `${await count('langgraph.checkpoint_blobs', 'thread_id')} checkpoint blobs`,
    `${(Number(outbox[0]?.n) / ids.length).toFixed(1)} outbox rows (agent.run.requested, cost.recorded)`,
  ];
  return parts.join(', ');
}
