import type { Knex } from 'knex';
import { waitForExit } from '../../scripts/lib/service-process';
import { eventually } from '../support/http';
import { fakeProviderEnv, useFakeProviders } from '../support/llm';
import { FAST_RECOVERY_ENV, serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';
import { lordsWorkspace, runsClient } from '../support/agent-runs';

/**
 * The two windows a runner can die or stall in that the other fault tests do not reach, with real gateway and
 * runner processes and the fake Gemini server:
 * - killed after the provider answered (and the call's cost row committed) but before the step row did: on
 *   resume the step is re-run once, and cost is recorded once per provider call that really happened;
 * - stalled (SIGSTOP) past its lease while a call is in flight: the sweeper hands the run to another runner,
 *   which finishes it; when the stalled one wakes, its writes are refused (fencing) and nothing runs twice.
 * The provider's answer is held by the fake (`until`) so each moment is chosen by the test, not by timing.
 */
const { stack, services } = useServices();
const fakes = useFakeProviders();
const FLASH = 'gemini-3.8-flash';
const research = {
  agent: 'seer',
  input: { topic: 'oat milk for marathon runners', depth: 'quick' },
  model: 'fast',
};
let gateway: RunningService;

const env = (extra: Record<string, string> = {}) =>
  serviceEnv(
    fakeProviderEnv(fakes, {
      ...FAST_RECOVERY_ENV,
      ...extra,
    }),
  );

beforeAll(async () => {
  gateway = await services.start('gateway', env());
}, 60_000);

// The fake's default answer: JSON sampled from each step's schema.
beforeEach(() => fakes.gemini.setDefault({ ok: {} }, FLASH));

/** A promise the test resolves when the held provider answer may go. */
function gate(): { until: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const until = new Promise<void>((resolve) => (open = resolve));
  return { until, open };
}

const flashCalls = () => fakes.gemini.requests.filter((r) => r.model === FLASH).length;

async function successCosts(db: Knex, runId: string, model = FLASH) {
  return db('cost_logs').where({ agent_run_id: runId, model, outcome: 'success' });
}

it('a runner killed after the provider answered, before the step row committed: the step re-runs once, each call costed once', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const held = gate();
  fakes.gemini.script(FLASH, { ok: {}, until: held.until });
  const runner = await services.start('agent-runner', env());
  const id = await runs.create(research);
  // The plan step's row exists and its call is at the provider: lock the row so its completion must wait.
  await eventually(async () => flashCalls() === 1, 20_000);
  const lock = await stack.db.transaction();
  const step = await lock('agent_run_steps').where({ run_id: id, key: 'plan' }).forUpdate().first();
  expect(step).toMatchObject({ status: 'running', attempts: 1 });
  held.open();
  // The provider answered and the call's cost row committed; the step's completion waits on the lock.
  await eventually(async () => (await successCosts(stack.db, id)).length === 1, 10_000);
  const blocked = await eventually(async () => {
    const { rows } = await stack.db.raw(
      `SELECT pid FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query ILIKE '%update agent_run_steps%'`,
    );
    return rows[0]?.pid as number | undefined;
  }, 10_000);
  runner.child.kill('SIGKILL');
  await waitForExit(runner.child, 10_000);
  // The process is gone; its backend must not finish the UPDATE once the lock is free (a real crash takes
  // the connection with it before the statement runs).
  await stack.db.raw('SELECT pg_terminate_backend(?)', [blocked]);
  await lock.rollback();
  expect(await stack.db('agent_run_steps').where({ run_id: id, key: 'plan' }).first()).toMatchObject({
    status: 'running',
  });

  const resumed = await services.start('agent-runner', env());
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 45_000);
  expect(run.status).toBe('completed');
  // plan twice (the killed attempt and its one re-run), gather and synthesize once.
  expect(flashCalls()).toBe(4);
  expect((await successCosts(stack.db, id)).length).toBe(4);
  const steps = await stack.db('agent_run_steps').where({ run_id: id }).orderBy('position');
  expect(steps.every((s) => s.status === 'completed')).toBe(true);
  expect(steps.find((s) => s.key === 'plan')).toMatchObject({ attempts: 2 });
  expect(steps.filter((s) => s.key !== 'plan').every((s) => s.attempts === 1)).toBe(true);
  resumed.child.kill('SIGTERM');
  await waitForExit(resumed.child, 15_000);
}, 120_000);

it('a runner stalled past its lease mid-call: another runner finishes the run; the stalled one writes nothing when it wakes', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const held = gate();
  fakes.gemini.script(FLASH, {
    ok: { json: { questions: ['STALE one?', 'stale two?'] } },
    until: held.until,
  });
  const stalled = await services.start('agent-runner', env());
  const id = await runs.create(research);
  await eventually(async () => flashCalls() === 1, 20_000);
  stalled.child.kill('SIGSTOP');
  try {
    // The sweeper of a second runner sees the lease and heartbeat run out and requeues the run; that
    // runner claims it (attempt 2), re-runs the plan step and finishes.
    const rescuer = await services.start('agent-runner', env());
    const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 60_000);
    expect(run.status).toBe('completed');
    expect(await stack.db('agent_runs').where({ id }).first()).toMatchObject({ attempts: 2 });
    held.open();
    stalled.child.kill('SIGCONT');
    // The stalled attempt wakes to its provider's answer; its step write is refused and it stops.
    await eventually(
      async () => stalled.child.output.some((l) => l.includes('lease lost; another runner owns the run now')),
      20_000,
    );
    const steps = await stack.db('agent_run_steps').where({ run_id: id }).orderBy('position');
    expect(steps.every((s) => s.status === 'completed')).toBe(true);
    const plan = steps.find((s) => s.key === 'plan')!;
    expect(JSON.stringify(plan.output)).not.toContain('stale');
    expect(plan.attempts).toBe(2);
    const completedEvents = await stack
      .db('agent_run_events')
      .where({ run_id: id, type: 'step.completed' })
      .whereRaw(`data->>'step' = 'plan'`);
    expect(completedEvents).toHaveLength(1);
    const finished = await stack
      .db('agent_run_events')
      .where({ run_id: id, type: 'status' })
      .whereRaw(`data->>'status' = 'completed'`);
    expect(finished).toHaveLength(1);
    // Cost: one row per provider call that happened, the stalled call's too. Its row is a success when the
    // woken runner reads the answer before its overdue heartbeat learns the lease is lost, and `cancelled`
    // when that check aborts the call first: timers and I/O are due together when it wakes (CI pre-check:
    // the abort won once, and that call had a cancelled row instead of a success).
    const flashCosts = () => stack.db('cost_logs').where({ agent_run_id: id, model: FLASH });
    await eventually(async () => (await flashCosts()).length === flashCalls(), 10_000);
    const outcomes = (await flashCosts()).map((c: { outcome: string }) => c.outcome);
    expect(outcomes.filter((o) => o !== 'success' && o !== 'cancelled')).toEqual([]);
    expect(outcomes.filter((o) => o === 'success').length).toBeGreaterThanOrEqual(flashCalls() - 1);
    rescuer.child.kill('SIGTERM');
    await waitForExit(rescuer.child, 15_000);
  } finally {
    stalled.child.kill('SIGCONT');
  }
}, 150_000);
