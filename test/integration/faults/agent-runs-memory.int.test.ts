import type { Knex } from 'knex';
import { waitForExit } from '../../../scripts/lib/service-process';
import { lordsWorkspace, runsClient } from '../../support/agent-runs';
import { eventually } from '../../support/http';
import { fakeProviderEnv, useFakeProviders } from '../../support/llm';
import { actorOf, memoryInput, newMemoryService } from '../../support/memory';
import { serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';

/**
 * Memory under faults, with real gateway and agent-runner processes: a runner SIGKILLed at the two moments
 * where a run's memory write could be repeated (after the write committed but before its step was marked
 * complete, and after the step completed, while the run was finishing), and an embedding model that is down.
 * A test holds a row lock to stop the runner at the exact moment, and waits on what the database shows
 * (step rows, stored items, the runner's backend waiting for that lock), never on time. Short lock,
 * stalled-check and lease settings make the restarted runner take the run over in seconds.
 */
const { stack, services } = useServices();
const fakes = useFakeProviders();
const FLASH = 'gemini-3.8-flash';
let gateway: RunningService;

const recovering = {
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  AGENT_RUN_LEASE_MS: '3000',
};
// Calls that take a moment, so a test can take its lock between two steps.
const slowLocal = serviceEnv({ LLM_PROVIDER: 'local', LOCAL_PROVIDER_LATENCY_MS: '300', ...recovering });

beforeAll(async () => {
  gateway = await services.start('gateway', serviceEnv({ LLM_PROVIDER: 'local' }));
}, 60_000);

const research = { agent: 'cognition', input: { topic: 'oat milk for runners', depth: 'quick' } };

const stored = (runId: string) => stack.db('memory_items').where({ source_run_id: runId }).orderBy('id');
const step = (runId: string, key: string) =>
  stack.db('agent_run_steps').where({ run_id: runId, key }).first();
const embeds = (runId: string) => stack.db('cost_logs').where({ agent_run_id: runId, alias: 'embed' });

const WAITING = `FROM pg_stat_activity
  WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE ?`;

/** Whether one of this database's backends waits for a row lock in a statement matching `pattern`. */
async function blockedOn(pattern: string): Promise<boolean> {
  const { rows } = await stack.db.raw<{ rows: unknown[] }>(`SELECT 1 ${WAITING}`, [pattern]);
  return rows.length > 0;
}

/**
 * Ends the dead runner's backends still waiting for the lock. PostgreSQL does not notice a vanished client
 * while a statement waits: released, an autocommit UPDATE would still commit, as if the runner had lived
 * long enough to send it. A runner killed before that statement never sends it.
 */
async function dropWaiting(pattern: string): Promise<void> {
  await stack.db.raw(`SELECT pg_terminate_backend(pid) ${WAITING}`, [pattern]);
}

/**
 * Runs a research run on a runner that is SIGKILLed while it waits for the lock `lock` takes (once the step
 * `lockAt` exists) and once `killWhen` holds; then a second runner resumes it. What was stored at the kill
 * and the run as it ended.
 */
async function killedAndResumed(o: {
  lockAt: string;
  lock: (trx: Knex.Transaction, runId: string) => Promise<unknown>;
  /** The statement the runner is stopped in (an ILIKE pattern). */
  blocked: string;
  killWhen: (runId: string) => Promise<boolean>;
}) {
  const runner = await services.start('agent-runner', slowLocal);
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create(research);
  await eventually(async () => step(id, o.lockAt), 20_000, 10);
  const trx = await stack.db.transaction();
  try {
    await o.lock(trx, id);
    await eventually(async () => (await o.killWhen(id)) && (await blockedOn(o.blocked)), 20_000, 20);
    runner.child.kill('SIGKILL');
    await waitForExit(runner.child, 10_000);
    await dropWaiting(o.blocked);
  } finally {
    await trx.rollback();
  }
  const atKill = await stored(id);
  const restarted = await services.start('agent-runner', slowLocal);
  try {
    const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 45_000);
    return { id, run, atKill };
  } finally {
    restarted.child.kill('SIGTERM');
    await waitForExit(restarted.child, 15_000);
  }
}

/** What a resumed run must show: the items of the first write, and that write only. */
async function expectStoredOnce(id: string, run: any, atKill: Array<{ id: string }>) {
  expect(run.status).toBe('completed');
  expect(atKill.length).toBe(run.output.findings.length + 1);
  expect([...run.output.remembered].sort()).toEqual(atKill.map((r) => r.id).sort());
  expect((await stored(id)).map((r) => r.id)).toEqual(atKill.map((r) => r.id));
  const writes = await stack.db('audit_logs').where({ agent_run_id: id, action: 'memory.write' });
  expect(writes).toHaveLength(atKill.length);
  expect((await embeds(id)).map((c) => c.outcome)).toEqual(['success']);
}

it('a runner SIGKILLed after `remember` completed, while finishing the run: the resumed run stores nothing again', async () => {
  const { id, run, atKill } = await killedAndResumed({
    lockAt: 'plan',
    // The run row: steps go on, but the runner cannot finish the run (its `FOR UPDATE` waits).
    lock: (trx, runId) => trx('agent_runs').where({ id: runId }).forNoKeyUpdate().first(),
    blocked: '%"agent_runs"%',
    killWhen: async (runId) =>
      (await step(runId, 'remember'))?.status === 'completed' &&
      (await blockedOn('%from "agent_runs"%for update%')),
  });
  await expectStoredOnce(id, run, atKill);
  // Answered from its stored output: the step never ran again.
  expect(await step(id, 'remember')).toMatchObject({ status: 'completed', attempts: 1 });
}, 120_000);

it('a runner SIGKILLed after its memory write committed, before the step was marked complete: the repeated step finds its items', async () => {
  const { id, run, atKill } = await killedAndResumed({
    lockAt: 'remember',
    // The step's row: the write commits, marking the step complete waits.
    lock: (trx, runId) =>
      trx('agent_run_steps').where({ run_id: runId, key: 'remember' }).forNoKeyUpdate().first(),
    blocked: '%update agent_run_steps%',
    killWhen: async (runId) => (await stored(runId)).length > 0,
  });
  await expectStoredOnce(id, run, atKill);
  // The step ran again, found the items its first attempt stored, and made no embedding call.
  expect(await step(id, 'remember')).toMatchObject({ status: 'completed', attempts: 2 });
  // In the order the flow gave them: the findings, then the brief.
  const kinds = new Map(atKill.map((r: any) => [r.id, r.kind]));
  expect(run.output.remembered.map((i: string) => kinds.get(i))).toEqual([
    ...run.output.findings.map(() => 'finding'),
    'brief',
  ]);
}, 120_000);

it('with the embedding model down, a run completes: recall and remember say why, nothing is stored', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  // Something to recall, so the recall really asks for an embedding.
  const { memory } = await newMemoryService(stack);
  await memory.write(actorOf(ws.id, owner.id), [
    memoryInput('Runners drink oat milk lattes.', { kind: 'finding', agent: 'cognition' }),
  ]);
  fakes.gemini.setDefault({ ok: {} }, FLASH);
  fakes.gemini.setDefault({ status: 503 }, 'gemini-embedding-001');
  const runner = await services.start(
    'agent-runner',
    serviceEnv(fakeProviderEnv(fakes, { LLM_MAX_ATTEMPTS: '2', ...recovering })),
  );
  try {
    const runs = runsClient(gateway.url, owner, ws);
    const id = await runs.create({ ...research, model: 'fast' });
    const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 30_000);
    expect(run).toMatchObject({ status: 'completed', error: null });
    expect(run.output).toMatchObject({ recalled: [], remembered: [] });
    expect(run.output.findings.length).toBeGreaterThan(0);
    const unavailable = { code: 'service_unavailable', message: expect.stringContaining('embedding model') };
    expect((await step(id, 'recall')).output).toEqual({ recalled: [], skipped: unavailable });
    expect((await step(id, 'remember')).output).toEqual({ remembered: [], skipped: unavailable });
    expect(await stored(id)).toHaveLength(0);
    // Two tries each, on record at no cost; the model calls went on as usual.
    const failed = await embeds(id);
    expect(failed.map((c) => [c.outcome, Number(c.cost_usd)])).toEqual(
      Array(failed.length).fill(['failed', 0]),
    );
    expect(fakes.gemini.callCount('gemini-embedding-001')).toBe(4);
    expect(fakes.gemini.callCount(FLASH)).toBe(3);
  } finally {
    runner.child.kill('SIGTERM');
    await waitForExit(runner.child, 15_000);
  }
}, 60_000);
