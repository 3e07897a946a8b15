import { waitForExit } from '../../../scripts/lib/service-process';
import { eventually } from '../../support/http';
import { fakeProviderEnv, useFakeProviders } from '../../support/llm';
import { FAST_RECOVERY_ENV, serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { finalRunJob, lordsWorkspace, runJob, runsClient } from '../../support/agent-runs';

/**
 * The run lifecycle with real gateway and agent-runner processes and the fake Gemini server: a runner
 * SIGKILLed mid-run, cancellation, the per-run timeout, a budget exhausted mid-run, and the per-workspace cap.
 * Short lock, stalled-check and lease settings make recovery take seconds instead of a minute.
 */
const { stack, services } = useServices();
const fakes = useFakeProviders();
const FLASH = 'gemini-3.8-flash';
let gateway: RunningService;

function runnerEnv(extra: Record<string, string> = {}) {
  return serviceEnv(
    fakeProviderEnv(fakes, {
      ...FAST_RECOVERY_ENV,
      AGENT_RUNNER_CONCURRENCY: '4',
      ...extra,
    }),
  );
}

beforeAll(async () => {
  gateway = await services.start('gateway', runnerEnv());
}, 60_000);

const research = {
  agent: 'seer',
  input: { topic: 'oat milk for marathon runners', depth: 'quick' },
  model: 'fast',
};

/**
 * The prompts the fake saw for `research`'s topic, in order (the user message of each generateContent call;
 * not embeddings). Only that topic's: a runner's sweeper also requeues runs an earlier test file of the same
 * worker left in its database (CI: six prompts of such a run came in with the restarted runner).
 */
const prompts = () =>
  fakes.gemini.requests
    .filter((r) => r.model === FLASH)
    .map((r) => JSON.stringify(r.body.contents))
    .filter((p) => p.includes(research.input.topic));

it('a runner SIGKILLed after the second model call: the run resumes and no completed step is paid twice', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  fakes.gemini.script(FLASH, { ok: {} }, { ok: {} });
  fakes.gemini.setDefault({ hang: true }, FLASH);
  const runner = await services.start('agent-runner', runnerEnv());
  const id = await runs.create(research);
  await eventually(async () => fakes.gemini.callCount(FLASH) >= 3, 20_000);
  runner.child.kill('SIGKILL');
  const before = prompts();
  expect(before).toHaveLength(3);

  fakes.gemini.setDefault({ ok: {} }, FLASH);
  const restarted = await services.start('agent-runner', runnerEnv());
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 45_000);
  expect(run.status).toBe('completed');
  const after = prompts();
  // plan and gather once each; only the synthesis, in flight when the runner died, was asked again.
  expect(after).toHaveLength(4);
  expect(after.slice(0, 3)).toEqual(before);
  expect(after[3]).toEqual(before[2]);
  expect(run.steps.map((s: { key: string; status: string }) => s.status)).toEqual(
    Array.from({ length: 5 }, () => 'completed'),
  );
  const successes = await stack.db('cost_logs').where({ agent_run_id: id, outcome: 'success' });
  // Three model calls and the embedding of what `remember` stored, which ran once, after the restart.
  expect(successes.map((c) => c.model).sort()).toEqual([FLASH, FLASH, FLASH, 'gemini-embedding-001'].sort());
  restarted.child.kill('SIGTERM');
  await waitForExit(restarted.child, 15_000);
}, 90_000);

describe('with one runner', () => {
  let runner: RunningService;
  beforeAll(async () => {
    runner = await services.start('agent-runner', runnerEnv({ AGENT_RUN_TIMEOUT_MS: '10000' }));
  }, 60_000);
  afterAll(async () => {
    runner.child.kill('SIGTERM');
    await waitForExit(runner.child, 15_000);
  });

  it('cancels a running run at its in-flight call, keeping what was done', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const runs = runsClient(gateway.url, owner, ws);
    fakes.gemini.script(FLASH, { ok: {} });
    fakes.gemini.setDefault({ hang: true }, FLASH);
    const id = await runs.create(research);
    await eventually(async () => fakes.gemini.callCount(FLASH) >= 2, 20_000);
    const res = await runs.cancel(id);
    expect(res.status).toBe(202);
    const started = Date.now();
    const run = await runs.until(id, ['cancelled', 'failed', 'completed'], 10_000);
    expect(run.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(run.steps[0]).toMatchObject({ key: expect.any(String), status: 'completed' });
    const costs = await stack.db('cost_logs').where({ agent_run_id: id }).orderBy('created_at');
    expect(costs.map((c) => c.outcome)).toEqual(['success', 'cancelled']);
    expect((await runs.cancel(id)).status).toBe(409);
  }, 30_000);

  it('fails a run that outlives its timeout with code timeout, without retrying it', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const runs = runsClient(gateway.url, owner, ws);
    fakes.gemini.setDefault({ hang: true }, FLASH);
    const id = await runs.create(research);
    const run = await runs.until(id, ['failed', 'completed', 'cancelled'], 20_000);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    // Its job finished for good after one attempt (a retry would hold it delayed, then count two).
    expect(await finalRunJob(stack.db, stack.bus.queue('agent'), id)).toMatchObject({ attemptsMade: 1 });
    expect((await stack.db('agent_runs').where({ id }).first()).attempts).toBe(1);
  }, 30_000);

  it('a budget exhausted mid-run fails it with budget_exceeded, once, no retry', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const runs = runsClient(gateway.url, owner, ws);
    // Each call bills close to its worst case; the budget takes one such call but not two.
    fakes.gemini.setDefault({ ok: { usage: { promptTokenCount: 200, candidatesTokenCount: 600 } } }, FLASH);
    await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: '0.004' });
    const id = await runs.create(research);
    const run = await runs.until(id, ['failed', 'completed', 'cancelled'], 20_000);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'budget_exceeded' } });
    expect(await finalRunJob(stack.db, stack.bus.queue('agent'), id)).toMatchObject({ attemptsMade: 1 });
    expect(fakes.gemini.callCount(FLASH)).toBe(1);
    const row = await stack.db('agent_runs').where({ id }).first();
    expect(row.attempts).toBe(1);
    expect(Number(row.cost_usd)).toBeGreaterThan(0);
  }, 30_000);

  it('cancels a queued run at once', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const runs = runsClient(gateway.url, owner, ws);
    // Fill the workspace's three slots with hanging runs so the fourth stays queued.
    fakes.gemini.setDefault({ hang: true }, FLASH);
    const busy = await Promise.all([1, 2, 3].map(() => runs.create(research)));
    await eventually(
      async () =>
        (await stack.db('agent_runs').whereIn('id', busy).where({ status: 'running' })).length === 3,
      10_000,
    );
    const queued = await runs.create(research);
    // The runner has taken its job and put it back (the workspace's slots are full): still queued after that.
    const job = await runJob(stack.db, stack.bus.queue('agent'), queued);
    await eventually(async () => (await job.getState()) === 'delayed', 10_000);
    expect((await runs.get(queued)).status).toBe('queued');
    const res = await runs.cancel(queued);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    for (const b of busy) await runs.cancel(b);
    await Promise.all(busy.map((b) => runs.until(b, ['cancelled', 'failed'], 10_000)));
    expect((await runs.get(queued)).status).toBe('cancelled');
    expect(await stack.db('cost_logs').where({ agent_run_id: queued })).toHaveLength(0);
  }, 40_000);

  it('caps running runs per workspace; a run of another workspace does not wait for that queue', async () => {
    const a = await lordsWorkspace(stack.db);
    const b = await lordsWorkspace(stack.db);
    const runsA = runsClient(gateway.url, a.owner, a.ws);
    const runsB = runsClient(gateway.url, b.owner, b.ws);
    fakes.gemini.setDefault({ ok: {}, delayMs: 400 }, FLASH);
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await runsA.create(research));
    const bId = await runsB.create(research);
    const bRun = await runsB.until(bId, ['completed', 'failed'], 30_000);
    // The whole run on failure: its error says why (a timeout on a loaded machine, say).
    expect({ status: bRun.status, error: bRun.error }).toEqual({ status: 'completed', error: null });
    const aRuns = await Promise.all(ids.map((id) => runsA.until(id, ['completed', 'failed'], 60_000)));
    expect(aRuns.every((r) => r.status === 'completed')).toBe(true);
    // B finished while A's queue was still being worked through.
    const lastAStart = Math.max(...aRuns.map((r) => Date.parse(r.started_at)));
    expect(Date.parse(bRun.completed_at)).toBeLessThan(lastAStart);
    // Never more than three of A's runs at once.
    const spans = aRuns.map((r) => [Date.parse(r.started_at), Date.parse(r.completed_at)] as const);
    const maxOverlap = Math.max(...spans.map(([s]) => spans.filter(([s2, e2]) => s2 <= s && s < e2).length));
    expect(maxOverlap).toBeLessThanOrEqual(3);
  }, 90_000);
});
