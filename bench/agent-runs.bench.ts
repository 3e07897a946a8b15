// bench/agent-runs: research-flow runs through the product — POST /v1/agent-runs on a real gateway process,
// outbox → BullMQ → agent-runner process(es) (lease, step rows, run events, audit, PostgresSaver checkpoints)
// → end seen on the run's SSE stream — against the same flow invoked in-process with LangGraph, in the same
// run, so the difference is what the queue and the persistence cost. "Bookkeeping per step" is the runner's
// own time per step beyond its model calls (its histogram, scraped around each phase), beside a raw round trip.
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import type { Knex } from 'knex';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { mintDevToken } from '../scripts/lib/dev-token';
import { apiRunner, breakdown, footprint, startService, stopServices, warnings } from './agent-runs-api';
import type { BenchService } from './agent-runs-api';
import { createInProcessResearch } from './agent-runs-baseline';
import type { BenchAgent } from './agent-runs-baseline';
import { cpuPerRun, cpuProbe } from './agent-runs-cpu';
import type { CpuSnapshot } from './agent-runs-cpu';
import { closedLoop, ms, perSec, sequential, signedMs, times } from './agent-runs-measure';
import { bookkeepingBetween, rawRoundTrips, scrapeBookkeeping } from './agent-runs-bookkeeping';
import type { Buckets } from './agent-runs-bookkeeping';
import type { RunOnce, Sequential, Throughput } from './agent-runs-measure';

/**
 * The 0 ms pass isolates the machinery; the smaller 20 ms pass (60 ms of "model" per run) shows a more
 * realistic shape. Sizes keep the whole bench near 90 s on a 2-CPU machine.
 */
const PASSES = [
  { latencyMs: 0, sequential: 100, total: 200, runners: [1, 2], postgresSaver: true },
  { latencyMs: 20, sequential: 30, total: 80, runners: [1], postgresSaver: false },
] as const;
type Pass = (typeof PASSES)[number];
const IN_FLIGHT = 20;
const WARMUP_SEQUENTIAL = 10;
const WARMUP_IN_FLIGHT = 20;
// The runner gives its PostgresSaver AGENT_CHECKPOINT_POOL_MAX (5) connections for 4 runs at once; the
// in-process variant runs 20 at once, so it gets one connection per caller.
const BASELINE_CHECKPOINT_POOL = IN_FLIGHT;

interface Measured {
  seq: Sequential<unknown>;
  thr: Throughput;
  /** CPU per run by process over the in-flight phase. */
  cpu: string | undefined;
  /** The runner's step bookkeeping histogram at the phase boundaries (API runs only). */
  marks?: Buckets[];
}

let topic = 0;

async function measure<T>(
  run: RunOnce<T>,
  pass: Pass,
  cpu: () => CpuSnapshot,
  mark?: () => Promise<Buckets>,
): Promise<Measured & { results: T[] }> {
  await sequential(run, WARMUP_SEQUENTIAL, topic);
  topic += WARMUP_SEQUENTIAL;
  await closedLoop(run, WARMUP_IN_FLIGHT, IN_FLIGHT, topic);
  topic += WARMUP_IN_FLIGHT;
  const marks: Buckets[] = [];
  if (mark) marks.push(await mark());
  const seq = await sequential(run, pass.sequential, topic);
  topic += pass.sequential;
  if (mark) marks.push(await mark());
  const before = cpu();
  const thr = await closedLoop(run, pass.total, IN_FLIGHT, topic);
  const usage = cpuPerRun(before, cpu(), pass.total);
  topic += pass.total;
  if (mark) marks.push(await mark());
  return { seq, thr, cpu: usage, results: seq.results, marks: mark ? marks : undefined };
}

/**
 * The runner's bookkeeping per step over the sequential and the in-flight phase, model steps first, and the
 * sequential p50 in raw INSERT commits of the same run (a step's floor is two: its begin and its end).
 */
function bookkeeping(m: Measured, commitP50: number | undefined): string[] {
  const [a, b, c] = m.marks ?? [];
  if (!a || !b || !c) return [];
  const phase = (from: Buckets, to: Buckets, work: string) => {
    const q = bookkeepingBetween(from, to, work);
    return q ? `p50 ${q.p50.toFixed(2)} ms, p99 ${q.p99.toFixed(2)} ms (${q.n} steps)` : 'no steps';
  };
  const seqModel = bookkeepingBetween(a, b, 'model');
  const met = seqModel ? (seqModel.p50 <= 2 ? 'met' : 'NOT met') : 'not measured';
  const commits =
    seqModel && commitP50
      ? `; sequential p50 = ${(seqModel.p50 / commitP50).toFixed(1)} raw INSERT commits`
      : '';
  return [
    `bookkeeping per step (runner: step wall time − its model calls; target ≤ 2 ms, p50 ${met}${commits}):`,
    `  model steps: sequential ${phase(a, b, 'model')}; ${IN_FLIGHT} in flight ${phase(b, c, 'model')}`,
    `  memory steps (− their memory calls): sequential ${phase(a, b, 'memory')}; ${IN_FLIGHT} in flight ${phase(b, c, 'memory')}`,
  ];
}

function describe(m: Measured): string {
  return (
    `sequential p50 ${ms(m.seq.p50)}, p99 ${ms(m.seq.p99)} (${perSec(m.seq.rate)}); ` +
    `${IN_FLIGHT} in flight ${perSec(m.thr.rate)}, p50 ${ms(m.thr.p50)}, p99 ${ms(m.thr.p99)}`
  );
}

function versus(m: Measured, base: Measured): string {
  return (
    `p50 ${times(m.seq.p50 / base.seq.p50)} (${signedMs(m.seq.p50 - base.seq.p50)}), p99 ${times(m.seq.p99 / base.seq.p99)}; ` +
    `throughput ${(m.thr.rate / base.thr.rate).toFixed(2)} of the baseline's`
  );
}

async function workspace(db: Knex, userId: string, name: string): Promise<{ id: string; agent: BenchAgent }> {
  const [ws] = await db('workspaces')
    .insert({ name, created_by: userId })
    .returning<Array<{ id: string }>>('id');
  await db('workspace_members').insert({ workspace_id: ws!.id, user_id: userId, role: 'owner' });
  await new AgentRegistryService({ db }).seedWorkspace(ws!.id);
  // Budget admission runs on both sides; a high budget only keeps ~1,500 runs' spend from reaching it.
  await db('workspace_budgets').insert({ workspace_id: ws!.id, monthly_budget_usd: 1_000_000 });
  const agent = await db('agents')
    .where({ workspace_id: ws!.id, key: 'cognition' })
    .first<BenchAgent>('id', 'key', 'name', 'domain', 'default_model');
  return { id: ws!.id, agent };
}

/** The in-process baselines of one pass, with no runner up, so the flow has the machine as a runner would. */
async function baselines(
  db: Knex,
  ws: { id: string; agent: BenchAgent },
  pass: Pass,
  lines: string[],
): Promise<Measured> {
  const variants = pass.postgresSaver ? (['memory', 'postgres'] as const) : (['memory'] as const);
  let base: Measured | undefined;
  for (const checkpointer of variants) {
    const flow = createInProcessResearch({
      db,
      workspaceId: ws.id,
      agent: ws.agent,
      latencyMs: pass.latencyMs,
      checkpointer,
      checkpointPoolMax: BASELINE_CHECKPOINT_POOL,
    });
    try {
      const m = await measure(flow.run, pass, cpuProbe({}));
      base ??= m;
      lines.push(
        checkpointer === 'memory'
          ? `    baseline, LangGraph in-process + MemorySaver + real ModelDispatcher (budget + cost rows in Postgres): ${describe(m)}`
          : `    LangGraph in-process + PostgresSaver (pool ${BASELINE_CHECKPOINT_POOL}), same dispatcher: ${describe(m)}; vs baseline ${versus(m, base)}`,
      );
      if (m.cpu) lines.push(`      ${IN_FLIGHT} in flight, ${m.cpu}`);
    } finally {
      await flow.close();
    }
  }
  return base!;
}

export async function runAgentRunsBench(db: Knex): Promise<string[]> {
  const settings = getSettings();
  const userId = randomUUID();
  const token = await mintDevToken({
    userId,
    secret: settings.supabaseJwtSecret,
    audience: settings.jwtAudience,
  });
  const project = await workspace(db, userId, 'bench-agent-runs');
  const baseline = await workspace(db, userId, 'bench-agent-runs-baseline');
  // One workspace for every API run, its cap lifted: a run over the cap waits in a 1 s+ delayed retry by
  // design, which would measure the cap, not the machinery.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LLM_PROVIDER: 'local',
    AGENT_WORKSPACE_CONCURRENCY: '1000',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const lines = [
    `bench/agent-runs (research flow: plan → gather → synthesize, 3 model calls, LLM_PROVIDER=local; ` +
      `1 gateway + agent-runner processes at AGENT_RUNNER_CONCURRENCY ${settings.concurrency.agentRunner}, from sources under tsx; ` +
      `all API runs in one workspace with AGENT_WORKSPACE_CONCURRENCY=1000 so the per-workspace cap never holds a run; ` +
      `a run's end is read from its SSE stream; ${cpus().length} CPUs shared by everything)`,
  ];
  let gateway: BenchService | undefined;
  let runners: BenchService[] = [];
  const all: BenchService[] = [];
  try {
    for (const pass of PASSES) {
      lines.push(
        `  LOCAL_PROVIDER_LATENCY_MS=${pass.latencyMs}: sequential ${pass.sequential} runs, then ${pass.total} runs ` +
          `with ${IN_FLIGHT} in flight (after ${WARMUP_SEQUENTIAL} + ${WARMUP_IN_FLIGHT} warm-up runs each)`,
      );
      const base = await baselines(db, baseline, pass, lines);
      if (!gateway) all.push((gateway = await startService('gateway', env)));
      for (const n of pass.runners) {
        const runnerEnv = { ...env, LOCAL_PROVIDER_LATENCY_MS: String(pass.latencyMs) };
        runners = await Promise.all(Array.from({ length: n }, () => startService('agent-runner', runnerEnv)));
        all.push(...runners);
        const cpu = cpuProbe({
          gateway: [gateway.child.pid!],
          'agent-runner': runners.map((r) => r.child.pid!),
        });
        const metricsToken = settings.metricsToken;
        const mark = () => scrapeBookkeeping(runners[0]!.url, metricsToken);
        const m = await measure(
          apiRunner(gateway.url, token, project.id),
          pass,
          cpu,
          n === 1 ? mark : undefined,
        );
        await stopServices(runners);
        runners = [];
        lines.push(
          `    API → completed, ${n} runner${n > 1 ? 's' : ''}: ${describe(m)}; vs baseline ${versus(m, base)}`,
        );
        if (m.cpu) lines.push(`      ${IN_FLIGHT} in flight, ${m.cpu}`);
        const raw = n === 1 ? await rawRoundTrips(db) : undefined;
        lines.push(...bookkeeping(m, raw?.insertP50).map((l) => `      ${l}`));
        if (raw) {
          lines.push(
            `      baseline, one raw PostgreSQL round trip (pg client, sequential): SELECT 1 ${raw.select}; ` +
              `single-row INSERT commit ${raw.insert}`,
          );
        }
        if (pass.latencyMs === 0 && n === 1) {
          lines.push(
            `      where a sequential run's time goes (medians; event times are transaction starts):`,
          );
          lines.push(...(await breakdown(db, m.results)).map((l) => `        ${l}`));
          lines.push(
            `      rows written per run: ${await footprint(
              db,
              m.results.map((r) => r.id),
            )}`,
          );
        }
      }
    }
    for (const s of all) {
      const w = warnings(s);
      if (w.length > 0) lines.push(`  ${s.name} logged ${w.length} warnings, first: ${w[0]!.slice(0, 300)}`);
    }
  } finally {
    await stopServices([...runners, ...(gateway ? [gateway] : [])]);
    const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
    for (const q of QUEUE_NAMES)
      await bus
        .queue(q)
        .obliterate({ force: true })
        .catch(() => undefined);
    await bus.close();
  }
  return lines;
}
