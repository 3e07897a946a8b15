import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { runCancelChannel } from '@raptorflow/data/runs/run-events';
import { LORD_KEYS } from '@raptorflow/data/domain/council-of-lords';
import { RUN_KEYS, insertRun, lordsTeam } from '../support/agent-runs';
import { expectError, useGateway } from '../support/gateway';
import { client, eventually } from '../support/http';
import { openStack } from '../support/stack';

/** Run statistics and cancellation, without an agent-runner: runner progress is simulated by writing rows. */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

describe('GET /v1/agent-runs/stats', () => {
  it('counts by status and agent, percentiles of completed durations and spend over the window', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const empty = await m.get('/v1/agent-runs/stats', t.h);
    expect(empty.status).toBe(200);
    // Every Lord is listed, idle ones included, so the dashboard has a row for each.
    const idle = (agent: string) => ({
      agent,
      total: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      cost_usd: 0,
      last_run: null,
    });
    expect(empty.body).toMatchObject({
      total: 0,
      by_status: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
      by_agent: [...LORD_KEYS].sort().map(idle),
      duration_ms: { p50: null, p95: null },
      cost_usd: { total: 0, per_run_avg: null },
    });
    expect(Date.parse(empty.body.to) - Date.parse(empty.body.from)).toBe(30 * 24 * 3600 * 1000);

    const now = Date.now();
    const ago = (days: number) => new Date(now - days * 24 * 3600 * 1000);
    const rows: Array<[string, string, Record<string, unknown>]> = [
      ['cognition', 'completed', { duration_ms: 1000, cost_usd: '0.10' }],
      ['cognition', 'completed', { duration_ms: 3000, cost_usd: '0.20' }],
      ['cognition', 'running', { cost_usd: '0.05' }],
      ['seer', 'failed', { duration_ms: 99_999, cost_usd: '0.01' }],
      ['seer', 'cancelled', {}],
      ['seer', 'queued', {}],
      ['herald', 'completed', { created_at: ago(40), duration_ms: 50_000, cost_usd: '5' }],
    ];
    for (const [agent, status, extra] of rows)
      await insertRun(stack.db, t.ws.id, agent, { status, created_at: ago(1), ...extra });

    const res = await m.get('/v1/agent-runs/stats', t.h);
    // The newest run by (created_at, id), as the run list orders them (these runs share one instant).
    const lastOf = (agent: string) =>
      stack
        .db('agent_runs')
        .where({ workspace_id: t.ws.id, agent_key: agent })
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first('id', 'status', 'created_at')
        .then((r) => ({ id: r.id, status: r.status, created_at: r.created_at.toISOString() }));
    expect(res.body).toMatchObject({
      total: 6,
      by_status: { queued: 1, running: 1, completed: 2, failed: 1, cancelled: 1 },
      by_agent: [
        {
          agent: 'cognition',
          total: 3,
          completed: 2,
          failed: 0,
          cancelled: 0,
          cost_usd: 0.35,
          last_run: await lastOf('cognition'),
        },
        {
          agent: 'seer',
          total: 3,
          completed: 0,
          failed: 1,
          cancelled: 1,
          cost_usd: 0.01,
          last_run: await lastOf('seer'),
        },
        ...['aesthete', 'arbiter', 'architect'].map(idle),
        // Herald ran 40 days ago: nothing in the window, but its last run is still shown.
        { ...idle('herald'), last_run: await lastOf('herald') },
        idle('strategos'),
      ],
      duration_ms: { p50: 2000, p95: 2900 },
      cost_usd: { total: 0.36, per_run_avg: 0.06 },
    });

    // Spend per agent is exact: ten decimal places survive, and the agents add up to the total.
    const precise = await lordsTeam(stack.db);
    for (const cost of ['0.0000000001', '0.1000000002', '0.2000000003'])
      await insertRun(stack.db, precise.ws.id, 'aesthete', { status: 'completed', cost_usd: cost });
    const exact = await client(url, precise.member.token).get('/v1/agent-runs/stats', precise.h);
    expect(exact.body.by_agent[0]).toMatchObject({ agent: 'aesthete', total: 3, cost_usd: 0.3000000006 });
    expect(exact.body.cost_usd.total).toBe(0.3000000006);

    const wide = await m.get(
      `/v1/agent-runs/stats?from=${ago(60).toISOString()}&to=${new Date(now + 1000).toISOString()}`,
      t.h,
    );
    expect(wide.body).toMatchObject({ total: 7, cost_usd: { total: 5.36 }, duration_ms: { p50: 3000 } });
    expect(wide.body.from).toBe(ago(60).toISOString());
    for (const bad of [
      `from=${ago(1).toISOString()}&to=${ago(2).toISOString()}`,
      `from=${ago(-1).toISOString()}`,
      'to=tomorrow',
      'status=completed',
    ])
      expectError(await m.get(`/v1/agent-runs/stats?${bad}`, t.h), 422, 'validation_failed');
  });
});

describe('POST /v1/agent-runs/:id/cancel', () => {
  it('cancels a queued run at once, with its status event', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const { id } = (await m.post('/v1/agent-runs', { agent: 'arbiter', input: { content: 'Buy now' } }, t.h))
      .body;
    const res = await m.post(`/v1/agent-runs/${id}/cancel`, undefined, t.h);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(RUN_KEYS);
    expect(res.body).toMatchObject({
      id,
      status: 'cancelled',
      error: { code: 'cancelled', message: expect.any(String) },
      completed_at: expect.any(String),
    });
    const events = await stack.db('agent_run_events').where({ run_id: id }).orderBy('id');
    expect(events.map((e) => e.data.status)).toEqual(['queued', 'cancelled']);
    expectError(await m.post(`/v1/agent-runs/${id}/cancel`, undefined, t.h), 409, 'conflict');
  });

  it('asks the runner to stop a running run: 202, cancel_requested_at, a message on the cancel channel', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const run = await insertRun(stack.db, t.ws.id, 'seer', { status: 'running', started_at: new Date() });
    const sub = createRedis('worker');
    const received: string[] = [];
    sub.on('message', (channel: string, message: string) => {
      if (channel === runCancelChannel(stack.prefix)) received.push(message);
    });
    await sub.subscribe(runCancelChannel(stack.prefix));

    const res = await m.post(`/v1/agent-runs/${run.id}/cancel`, undefined, t.h);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: run.id, status: 'running', cancel_requested: true });
    const row = await stack.db('agent_runs').where({ id: run.id }).first();
    expect(row.status).toBe('running');
    expect(row.cancel_requested_at).toBeInstanceOf(Date);
    await eventually(async () => received.includes(run.id));

    // Asking again changes nothing but says the same.
    const again = await m.post(`/v1/agent-runs/${run.id}/cancel`, undefined, t.h);
    expect(again.status).toBe(202);
    const after = await stack.db('agent_runs').where({ id: run.id }).first();
    expect(after.cancel_requested_at).toEqual(row.cancel_requested_at);
    await sub.quit();
  });

  it('refuses a finished run (409) and another workspace’s run (404)', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    for (const status of ['completed', 'failed', 'cancelled']) {
      const run = await insertRun(stack.db, t.ws.id, 'seer', { status, completed_at: new Date() });
      expectError(await m.post(`/v1/agent-runs/${run.id}/cancel`, undefined, t.h), 409, 'conflict');
    }
    const other = await lordsTeam(stack.db);
    const theirs = await insertRun(stack.db, other.ws.id, 'seer');
    expectError(await m.post(`/v1/agent-runs/${theirs.id}/cancel`, undefined, t.h), 404, 'not_found');
    expect((await stack.db('agent_runs').where({ id: theirs.id }).first()).status).toBe('queued');
  });
});
