import { RUN_KEYS, insertRun, lordsTeam } from '../support/agent-runs';
import { newUser, newWorkspace } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/** The agent-runs API without an agent-runner: runner progress is simulated by writing rows. */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

async function written(workspaceId: string) {
  const count = async (table: string) =>
    Number((await stack.db(table).where({ workspace_id: workspaceId }).count('* as n'))[0]!.n);
  return {
    runs: await count('agent_runs'),
    events: await count('agent_run_events'),
    outbox: await count('event_outbox'),
  };
}

describe('POST /v1/agent-runs', () => {
  it('queues a run: the row, its status event and the outbox row; 202 with Location', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const res = await m.post(
      '/v1/agent-runs',
      { agent: 'cognition', input: { topic: '  Oat milk in Nordic cafés ' } },
      t.h,
    );
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
    const id = res.body.id as string;
    expect(res.headers.get('location')).toBe(`/v1/agent-runs/${id}`);

    const row = await stack.db('agent_runs').where({ id }).first();
    expect(row).toMatchObject({
      workspace_id: t.ws.id,
      agent_key: 'cognition',
      flow: 'research',
      model: 'standard',
      status: 'queued',
      input: { topic: 'Oat milk in Nordic cafés', depth: 'standard' },
      requested_by: t.member.id,
      correlation_id: res.headers.get('x-correlation-id'),
    });
    const agent = await stack.db('agents').where({ workspace_id: t.ws.id, key: 'cognition' }).first();
    expect(row.agent_id).toBe(agent.id);
    const events = await stack.db('agent_run_events').where({ run_id: id });
    expect(events.map((e) => [e.type, e.data])).toEqual([['status', { status: 'queued' }]]);
    const outbox = await stack.db('event_outbox').where({ workspace_id: t.ws.id });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ event_type: 'agent.run.requested', queue: 'agent' });
    expect(outbox[0].envelope.payload).toEqual({ agent_run_id: id, agent_key: 'cognition' });
    expect(outbox[0].envelope.actor_user_id).toBe(t.member.id);

    // A model alias or priced id overrides the agent's default.
    const other = await m.post(
      '/v1/agent-runs',
      { agent: 'herald', input: { brief: 'Launch post', channel: 'linkedin' }, model: 'gemini-3.8-flash' },
      t.h,
    );
    expect(other.status).toBe(202);
    expect(await stack.db('agent_runs').where({ id: other.body.id }).first()).toMatchObject({
      flow: 'muse',
      model: 'gemini-3.8-flash',
    });
  });

  it('refuses an unknown agent, input off its flow schema, an unknown model or extra fields; writes nothing', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const before = await written(t.ws.id);
    const cases: Array<[unknown, string]> = [
      [{ agent: 'zeus', input: { topic: 'x' } }, 'body.agent'],
      [{ agent: 'cognition', input: {} }, 'body.input.topic'],
      [{ agent: 'cognition', input: { topic: '   ' } }, 'body.input.topic'],
      [{ agent: 'seer', input: { topic: 'x', depth: 'abyssal' } }, 'body.input.depth'],
      [{ agent: 'cognition', input: { topic: 'x', brief: 'wrong flow' } }, 'body.input.brief'],
      [{ agent: 'aesthete', input: { brief: 'b' } }, 'body.input.channel'],
      [{ agent: 'herald', input: { topic: 'a research input' } }, 'body.input.brief'],
      [{ agent: 'strategos', input: { objective: 'o', horizon_weeks: 0 } }, 'body.input.horizon_weeks'],
      [{ agent: 'architect', input: { objective: 'o', budget_usd: '5' } }, 'body.input.budget_usd'],
      [{ agent: 'arbiter', input: { content: 5 } }, 'body.input.content'],
      [{ agent: 'arbiter', input: 'just text' }, 'body.input'],
      [{ agent: 'cognition', input: { topic: 'x' }, model: 'gpt-9' }, 'body.model'],
      [{ agent: 'cognition', input: { topic: 'x' }, priority: 1 }, 'body.priority'],
      // A flow the agent does not run; a campaign's input is checked against the campaign's schema.
      [{ agent: 'cognition', flow: 'campaign', input: { objective: 'o', channels: ['x'] } }, 'body.flow'],
      [{ agent: 'strategos', flow: 'campaign', input: { objective: 'o' } }, 'body.input.channels'],
      [{ agent: 'strategos', flow: 'campaign', input: { objective: 'o', channels: [] } }, 'body.input.channels'],
      [{ input: { topic: 'x' } }, 'body.agent'],
    ];
    for (const [body, path] of cases) {
      const res = await m.post('/v1/agent-runs', body, t.h);
      expectError(res, 422, 'validation_failed');
      const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
      if (!paths.includes(path))
        throw new Error(`${JSON.stringify(body)}: expected ${path} in ${JSON.stringify(paths)}`);
    }
    expect(await written(t.ws.id)).toEqual(before);
  });
});

describe('GET /v1/agent-runs', () => {
  it('lists newest first with filters and a cursor bound to them', async () => {
    const t = await lordsTeam(stack.db);
    const m = client(url, t.member.token);
    const base = Date.parse('2026-01-10T00:00:00Z');
    const at = (i: number) => new Date(base + i * 60_000);
    const spec: Array<[string, string]> = [
      ['cognition', 'completed'],
      ['seer', 'failed'],
      ['cognition', 'completed'],
      ['seer', 'completed'],
      ['cognition', 'queued'],
    ];
    const ids: string[] = [];
    for (const [i, [agent, status]] of spec.entries())
      ids.push(
        (await insertRun(stack.db, t.ws.id, agent, { status, created_at: at(i), cost_usd: '0.25' })).id,
      );
    // Another workspace's run never shows up.
    const other = await lordsTeam(stack.db);
    await insertRun(stack.db, other.ws.id, 'cognition', { created_at: at(2) });

    const all = await m.get('/v1/agent-runs?limit=100', t.h);
    expect(all.status).toBe(200);
    expect(all.body.data.map((r: { id: string }) => r.id)).toEqual([...ids].reverse());
    expect(all.body.next_cursor).toBeNull();
    expect(Object.keys(all.body.data[0]).sort()).toEqual(RUN_KEYS);
    expect(all.body.data[0]).toMatchObject({ agent: 'cognition', status: 'queued', cost_usd: 0.25 });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await m.get(`/v1/agent-runs?${qs}`, t.h);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((r: { id: string }) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const completed = await m.get('/v1/agent-runs?status=completed&limit=1', t.h);
    expect(completed.body.data.map((r: { id: string }) => r.id)).toEqual([ids[3]]);
    const next = await m.get(
      `/v1/agent-runs?status=completed&limit=5&cursor=${encodeURIComponent(completed.body.next_cursor)}`,
      t.h,
    );
    expect(next.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[0]]);
    expectError(
      await m.get(`/v1/agent-runs?agent=seer&cursor=${encodeURIComponent(completed.body.next_cursor)}`, t.h),
      422,
      'validation_failed',
    );
    const seer = await m.get('/v1/agent-runs?agent=seer', t.h);
    expect(seer.body.data.map((r: { id: string }) => r.id)).toEqual([ids[3], ids[1]]);
    const window = await m.get(
      `/v1/agent-runs?from=${at(1).toISOString()}&to=${encodeURIComponent(at(3).toISOString())}`,
      t.h,
    );
    expect(window.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    for (const bad of ['status=done', 'from=yesterday', 'limit=101', 'sort=asc'])
      expectError(await m.get(`/v1/agent-runs?${bad}`, t.h), 422, 'validation_failed');
  });
});

describe('GET /v1/agent-runs/:id', () => {
  it('returns the run with its steps by position and its model calls; 404 across workspaces', async () => {
    const t = await lordsTeam(stack.db);
    const run = await insertRun(stack.db, t.ws.id, 'cognition', {
      status: 'completed',
      output: JSON.stringify({ summary: 's' }),
      started_at: new Date('2026-01-10T00:00:01Z'),
      completed_at: new Date('2026-01-10T00:00:04Z'),
      duration_ms: 3000,
      input_tokens: 30,
      output_tokens: 12,
      cost_usd: '0.0012345678',
    });
    const step = (key: string, position: number, extra: Record<string, unknown> = {}) => ({
      run_id: run.id,
      workspace_id: t.ws.id,
      key,
      position,
      status: 'completed',
      model: 'gemini-3.8-flash',
      input_tokens: 10,
      output_tokens: 4,
      cost_usd: '0.0004',
      completed_at: new Date(),
      ...extra,
    });
    await stack
      .db('agent_run_steps')
      .insert([
        step('synthesize', 2),
        step('plan', 0),
        step('gather', 1, { status: 'failed', error: JSON.stringify({ code: 'x', message: 'y' }) }),
      ]);
    const [cost] = await stack
      .db('cost_logs')
      .insert({
        workspace_id: t.ws.id,
        agent_run_id: run.id,
        provider: 'local',
        model: 'gemini-3.8-flash',
        input_tokens: 10,
        output_tokens: 4,
        cost_usd: '0.0004',
      })
      .returning('id');

    const m = client(url, t.member.token);
    const res = await m.get(`/v1/agent-runs/${run.id}`, t.h);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: run.id,
      agent: 'cognition',
      flow: 'research',
      status: 'completed',
      output: { summary: 's' },
      cost_usd: 0.0012345678,
      input_tokens: 30,
      output_tokens: 12,
      duration_ms: 3000,
      started_at: '2026-01-10T00:00:01.000Z',
      completed_at: '2026-01-10T00:00:04.000Z',
    });
    expect(res.body.steps.map((s: { key: string }) => s.key)).toEqual(['plan', 'gather', 'synthesize']);
    expect(res.body.steps[1]).toEqual({
      key: 'gather',
      position: 1,
      status: 'failed',
      model: 'gemini-3.8-flash',
      input_tokens: 10,
      output_tokens: 4,
      cost_usd: 0.0004,
      started_at: expect.any(String),
      completed_at: expect.any(String),
      error: { code: 'x', message: 'y' },
    });
    expect(res.body.costs).toEqual([
      {
        id: cost.id,
        provider: 'local',
        model: 'gemini-3.8-flash',
        outcome: 'success',
        input_tokens: 10,
        output_tokens: 4,
        cost_usd: 0.0004,
        created_at: expect.any(String),
      },
    ]);

    // Someone of another workspace gets "not found", with or without naming their own workspace.
    const stranger = await newUser();
    const theirs = await newWorkspace(stack.db, stranger);
    const s = client(url, stranger.token);
    expectError(await s.get(`/v1/agent-runs/${run.id}`), 404, 'not_found');
    expectError(
      await s.get(`/v1/agent-runs/${run.id}`, { headers: { 'x-workspace-id': theirs.id } }),
      404,
      'not_found',
    );
    expectError(await s.get(`/v1/agent-runs/${run.id}`, t.h), 403, 'permission_denied');
    expectError(await m.get('/v1/agent-runs/not-a-uuid', t.h), 422, 'validation_failed');
  });
});
