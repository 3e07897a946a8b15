import type { Knex } from 'knex';
import { eventually } from './http';
import { newUser } from './factories';
import type { TestUser } from './factories';
import { actualRollups, expectedRollups } from './ledger';

/**
 * The soak: many workspaces created and many runs requested in bursts through several gateways, then every
 * invariant the system promises checked on the database. Shared by test/faults/soak.fault.test.ts (pass/fail)
 * and bench/soak (throughput and p95).
 */
export interface SoakOptions {
  db: Knex;
  /** Base URLs of the gateways; requests go round-robin. */
  gateways: string[];
  workspaces: number;
  runsPerWorkspace: number;
  /** Requests in flight at once. */
  burst: number;
  timeoutMs?: number;
}

export interface SoakReport {
  workspaceIds: string[];
  runIds: string[];
  /** Workspace creates per second (API), and from the first create until every workspace had its Lords. */
  createsPerSecond: number;
  seededAfterMs: number;
  createP95Ms: number;
  /** Runs per second from the first request until the last completion; request → completed p50/p95. */
  runsPerSecond: number;
  runP50Ms: number;
  runP95Ms: number;
  /** Requests the API did not accept with 2xx (status → count): a soak without faults expects none. */
  refused: Record<string, number>;
}

const RESEARCH = {
  agent: 'seer',
  input: { topic: 'oat milk for marathon runners', depth: 'quick' },
  model: 'fast',
};
/** MAX_WORKSPACES_PER_USER is 10 by default; five each leaves room. */
const WORKSPACES_PER_USER = 5;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function inBursts<T>(count: number, burst: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += burst)
    out.push(...(await Promise.all(Array.from({ length: Math.min(burst, count - i) }, (_, j) => fn(i + j)))));
  return out;
}

async function post(url: string, token: string, body: unknown, workspaceId?: string) {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(workspaceId ? { 'x-workspace-id': workspaceId } : {}),
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { id?: string };
  return { status: res.status, id: json.id, ms: performance.now() - started };
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const timeoutMs = o.timeoutMs ?? 600_000;
  const refused: Record<string, number> = {};
  const refuse = (status: number) => (refused[status] = (refused[status] ?? 0) + 1);
  const users: TestUser[] = await Promise.all(
    Array.from({ length: Math.ceil(o.workspaces / WORKSPACES_PER_USER) }, () => newUser()),
  );
  const gateway = (i: number) => o.gateways[i % o.gateways.length]!;

  const createStart = performance.now();
  const creates = await inBursts(o.workspaces, o.burst, (i) =>
    post(`${gateway(i)}/v1/workspaces`, users[Math.floor(i / WORKSPACES_PER_USER)]!.token, {
      name: `soak ${i}`,
    }),
  );
  const createdMs = performance.now() - createStart;
  const workspaces = creates.flatMap((c, i) => {
    if (c.status !== 201 || !c.id) {
      refuse(c.status);
      return [];
    }
    return [{ id: c.id, owner: users[Math.floor(i / WORKSPACES_PER_USER)]! }];
  });
  const workspaceIds = workspaces.map((w) => w.id);
  await eventually(
    async () => {
      const row = await o
        .db('agents')
        .whereIn('workspace_id', workspaceIds)
        .count<{ n: string }>('* as n')
        .first();
      return Number(row?.n) >= workspaceIds.length * 7;
    },
    timeoutMs,
    200,
  );
  const seededAfterMs = performance.now() - createStart;

  const requests = workspaces.flatMap((w) => Array.from({ length: o.runsPerWorkspace }, () => w));
  const runs = await inBursts(requests.length, o.burst, (i) =>
    post(`${gateway(i)}/v1/agent-runs`, requests[i]!.owner.token, RESEARCH, requests[i]!.id),
  );
  const runIds = runs.flatMap((r) => {
    if (r.status !== 202 || !r.id) {
      refuse(r.status);
      return [];
    }
    return [r.id];
  });
  await eventually(
    async () => {
      const row = await o
        .db('agent_runs')
        .whereIn('id', runIds)
        .whereIn('status', ['completed', 'failed', 'cancelled'])
        .count<{ n: string }>('* as n')
        .first();
      return Number(row?.n) === runIds.length;
    },
    timeoutMs,
    250,
  );
  const { rows } = await o.db.raw<{ rows: Array<{ ms: number }> }>(
    `SELECT (EXTRACT(EPOCH FROM (completed_at - created_at)) * 1000)::float8 AS ms FROM agent_runs
      WHERE id = ANY(?) ORDER BY ms`,
    [runIds],
  );
  const span = await o.db.raw<{ rows: Array<{ s: number }> }>(
    `SELECT EXTRACT(EPOCH FROM (max(completed_at) - min(created_at)))::float8 AS s FROM agent_runs WHERE id = ANY(?)`,
    [runIds],
  );
  const latencies = rows.map((r) => r.ms);
  return {
    workspaceIds,
    runIds,
    createsPerSecond: creates.length / (createdMs / 1000),
    seededAfterMs,
    createP95Ms: percentile(
      creates.map((c) => c.ms).sort((a, b) => a - b),
      95,
    ),
    runsPerSecond: runIds.length / Math.max(span.rows[0]!.s, 0.001),
    runP50Ms: percentile(latencies, 50),
    runP95Ms: percentile(latencies, 95),
    refused,
  };
}

/**
 * Every invariant of a finished soak, as a list of problems (empty when all hold): seven Lords per
 * workspace; every run completed, with one completed status and no step started twice; each run's cost and
 * the ledger's rollups and month counters equal to the cost rows; no budget reservation left open.
 */
export async function soakProblems(db: Knex, workspaceIds: string[], runIds: string[]): Promise<string[]> {
  const problems: string[] = [];
  const q = async <T>(sql: string, bindings: unknown[]): Promise<T[]> =>
    (await db.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[])).rows;
  const lords = await q<{ workspace_id: string; n: number }>(
    `SELECT w.id AS workspace_id, count(a.id)::int AS n FROM workspaces w LEFT JOIN agents a ON a.workspace_id = w.id
      WHERE w.id = ANY(?) GROUP BY w.id HAVING count(a.id) <> 7`,
    [workspaceIds],
  );
  for (const l of lords) problems.push(`workspace ${l.workspace_id} has ${l.n} Lords`);
  const unfinished = await q<{ id: string; status: string }>(
    `SELECT id, status FROM agent_runs WHERE id = ANY(?) AND status <> 'completed'`,
    [runIds],
  );
  for (const r of unfinished) problems.push(`run ${r.id} ended ${r.status}`);
  const completions = await q<{ id: string; n: number }>(
    `SELECT r.id, count(e.id)::int AS n FROM agent_runs r
       LEFT JOIN agent_run_events e ON e.run_id = r.id AND e.type = 'status' AND e.data->>'status' = 'completed'
      WHERE r.id = ANY(?) GROUP BY r.id HAVING count(e.id) <> 1`,
    [runIds],
  );
  for (const c of completions) problems.push(`run ${c.id} has ${c.n} completed statuses`);
  const twice = await q<{ run_id: string; key: string; attempts: number }>(
    `SELECT run_id, key, attempts FROM agent_run_steps WHERE run_id = ANY(?) AND attempts <> 1`,
    [runIds],
  );
  for (const s of twice) problems.push(`step ${s.key} of run ${s.run_id} started ${s.attempts} times`);
  const costs = await q<{ id: string; run: string; rows: string }>(
    `SELECT r.id, r.cost_usd::text AS run, COALESCE(sum(c.cost_usd), 0)::text AS rows FROM agent_runs r
       LEFT JOIN cost_logs c ON c.agent_run_id = r.id
      WHERE r.id = ANY(?) GROUP BY r.id HAVING r.cost_usd IS DISTINCT FROM COALESCE(sum(c.cost_usd), 0)`,
    [runIds],
  );
  for (const c of costs) problems.push(`run ${c.id} cost ${c.run} but its cost rows sum to ${c.rows}`);
  const open = await q<{ n: number }>(
    `SELECT count(*)::int AS n FROM budget_reservations WHERE workspace_id = ANY(?) AND status = 'active'`,
    [workspaceIds],
  );
  if (open[0]!.n > 0) problems.push(`${open[0]!.n} budget reservations still active`);
  const counters = await q<{ workspace_id: string; spent: string; rows: string }>(
    `SELECT u.workspace_id, u.spent_usd::text AS spent, COALESCE(sum(c.cost_usd), 0)::text AS rows
       FROM budget_usage u LEFT JOIN cost_logs c
         ON c.workspace_id = u.workspace_id AND date_trunc('month', c.created_at AT TIME ZONE 'UTC')::date = u.month
      WHERE u.workspace_id = ANY(?) GROUP BY u.workspace_id, u.month, u.spent_usd
     HAVING u.spent_usd <> COALESCE(sum(c.cost_usd), 0) OR u.reserved_usd <> 0`,
    [workspaceIds],
  );
  for (const c of counters)
    problems.push(`workspace ${c.workspace_id} month counter ${c.spent} ≠ cost rows ${c.rows}`);
  // The ledger folds asynchronously: give it until the rollups match, then report what still differs.
  const expected = JSON.stringify(await expectedRollups(db, workspaceIds));
  const settled = await eventually(
    async () => JSON.stringify(await actualRollups(db, workspaceIds)) === expected,
    60_000,
    250,
  ).catch(() => false);
  if (!settled) problems.push('cost rollups differ from the cost rows');
  return problems;
}
