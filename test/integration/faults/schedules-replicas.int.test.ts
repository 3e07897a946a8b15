import { serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { lordsWorkspace } from '../../support/agent-runs';
import { client, eventually } from '../../support/http';
import { scheduleTicks } from '../../support/runner-wiring';

/**
 * Schedules fire through real processes: the gateway and TWO agent-runners on the same queue. A cron with
 * seconds (`*\/2 * * * * *`, BullMQ's parser takes a seconds field) fires every 2 s; every tick must create
 * exactly one run however many runners could take it, a paused workspace budget skips ticks with an audit
 * row each, and a tick delivered twice at once (a retry racing a stalled job) still creates one run.
 */
const { stack, services } = useServices();
let gateway: RunningService;

beforeAll(async () => {
  const env = serviceEnv({ LLM_PROVIDER: 'local' });
  [gateway] = await Promise.all([
    services.start('gateway', env),
    services.start('agent-runner', env),
    services.start('agent-runner', env),
  ]);
}, 60_000);

interface Tick {
  scheduled_for: Date;
  outcome: string;
  agent_run_id: string | null;
  reason: string | null;
}
const ticksOf = (id: string): Promise<Tick[]> =>
  stack.db('schedule_ticks').where({ schedule_id: id }).orderBy('scheduled_for');

async function schedule(ws: string, token: string, body: Record<string, unknown>) {
  const res = await client(gateway.url, token).post('/v1/schedules', body, {
    headers: { 'x-workspace-id': ws },
  });
  if (res.status !== 201) throw new Error(`create schedule: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

const pause = (ws: string, token: string, id: string) =>
  client(gateway.url, token).call('PATCH', `/v1/schedules/${id}`, {
    headers: { 'x-workspace-id': ws },
    body: { paused: true },
  });

it('fires once per tick with two runner replicas: one run per tick, distinct tick times, none doubled', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  // The Arbiter's guardian flow calls no model: many runs cost nothing and finish fast.
  const s = await schedule(ws.id, owner.token, {
    agent: 'arbiter',
    input: { content: 'Our oat milk is tasty.' },
    cron: '*/2 * * * * *',
    timezone: 'Europe/Berlin',
  });
  await eventually(async () => (await ticksOf(s.id)).length >= 5, 40_000, 200);
  // The PATCH waits for a tick in flight (row lock) and later ticks see the pause: the count is final.
  expect((await pause(ws.id, owner.token, s.id)).status).toBe(200);
  const ticks = await ticksOf(s.id);

  const times = ticks.map((t) => t.scheduled_for.getTime());
  expect(new Set(times).size).toBe(times.length);
  for (const t of times) expect(t % 2_000).toBe(0);
  expect(ticks.every((t) => t.outcome === 'run_created' && t.agent_run_id)).toBe(true);
  const runs = await stack
    .db('agent_runs')
    .where({ workspace_id: ws.id })
    .select('id', 'requested_by', 'agent_key');
  expect(runs.map((r) => r.id).sort()).toEqual(ticks.map((t) => t.agent_run_id).sort());
  expect(runs.every((r) => r.requested_by === owner.id && r.agent_key === 'arbiter')).toBe(true);
  // The runs are real runs: the runners execute them.
  const ended = await eventually(
    async () => {
      const statuses = await stack.db('agent_runs').where({ workspace_id: ws.id }).pluck('status');
      return statuses.every((st) => ['completed', 'failed', 'cancelled'].includes(st)) && statuses;
    },
    30_000,
    200,
  );
  expect(ended).toEqual(runs.map(() => 'completed'));
  const row = await stack.db('schedules').where({ id: s.id }).first();
  expect(row.last_fired_at.getTime()).toBe(Math.max(...times));
  // Paused: its job scheduler is gone, and no tick is added after the pause.
  expect(await stack.bus.queue('agent').getJobScheduler(`schedule-${s.id}`)).toBeUndefined();
}, 90_000);

it('skips every tick while the workspace budget is paused (0), with one schedule.skipped audit row each', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const put = await client(gateway.url, owner.token).call('PUT', `/v1/workspaces/${ws.id}/budget`, {
    body: { monthly_budget_usd: 0 },
  });
  expect(put.status).toBe(200);
  const s = await schedule(ws.id, owner.token, {
    agent: 'seer',
    input: { topic: 'Weekly trends' },
    cron: '*/2 * * * * *',
    timezone: 'UTC',
  });
  await eventually(async () => (await ticksOf(s.id)).length >= 2, 30_000, 200);
  expect((await pause(ws.id, owner.token, s.id)).status).toBe(200);
  const ticks = await ticksOf(s.id);
  expect(ticks.every((t) => t.outcome === 'skipped' && t.reason === 'budget_paused' && !t.agent_run_id)).toBe(
    true,
  );
  expect(await stack.db('agent_runs').where({ workspace_id: ws.id })).toHaveLength(0);
  const audit = await stack.db('audit_logs').where({ resource_id: s.id, action: 'schedule.skipped' });
  expect(audit).toHaveLength(ticks.length);
  expect(audit.map((a) => a.metadata.scheduled_for).sort()).toEqual(
    ticks.map((t) => t.scheduled_for.toISOString()),
  );
  expect(audit.every((a) => a.actor_type === 'system' && a.metadata.reason === 'budget_paused')).toBe(true);
}, 60_000);

it('a tick delivered several times at once (retry, stalled job, replicas) creates one run', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const s = await schedule(ws.id, owner.token, {
    agent: 'arbiter',
    input: { content: 'hello' },
    cron: '0 9 * * 1',
    timezone: 'Europe/Berlin',
    paused: false,
  });
  const ticks = scheduleTicks(stack);
  const at = new Date('2026-12-07T08:00:00.000Z');
  const outcomes = await Promise.all(Array.from({ length: 6 }, () => ticks.fire(s.id, at)));
  expect(outcomes.filter((o) => o === 'run_created')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5);
  expect(await stack.db('agent_runs').where({ workspace_id: ws.id })).toHaveLength(1);
  // And once the schedule is gone, a tick its stale scheduler still fires removes that scheduler.
  await client(gateway.url, owner.token).call('DELETE', `/v1/schedules/${s.id}`, {
    headers: { 'x-workspace-id': ws.id },
  });
  expect(await ticks.fire(s.id, new Date(at.getTime() + 7 * 86_400_000))).toBe('gone');
});
