import { newTeam } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client, eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

describe('budget', () => {
  it('reads the default, lets only the owner set it, keeps exact decimals, audits before/after', async () => {
    const t = await newTeam(stack.db);
    const path = `/v1/workspaces/${t.ws.id}/budget`;
    const m = client(url, t.member.token);
    expect((await m.get(path)).body).toMatchObject({
      monthly_budget_usd: 50,
      source: 'default',
      updated_at: null,
    });
    expectError(
      await client(url, t.admin.token).call('PUT', path, { body: { monthly_budget_usd: 10 } }),
      403,
      'permission_denied',
    );
    const o = client(url, t.owner.token);
    for (const bad of [
      { monthly_budget_usd: -1 },
      { monthly_budget_usd: '10' },
      {},
      { monthly_budget_usd: 1.0000001 },
      { monthly_budget_usd: 5, x: 1 },
    ])
      expectError(await o.call('PUT', path, { body: bad }), 422, 'validation_failed');
    const set = await o.call('PUT', path, { body: { monthly_budget_usd: 123.456789 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      workspace_id: t.ws.id,
      monthly_budget_usd: 123.456789,
      source: 'workspace',
    });
    expect(
      (await stack.db('workspace_budgets').where({ workspace_id: t.ws.id }).first()).monthly_budget_usd,
    ).toBe('123.4567890000');
    await o.call('PUT', path, { body: { monthly_budget_usd: 0 } });
    const audits = await stack
      .db('audit_logs')
      .where({ workspace_id: t.ws.id, action: 'budget.updated' })
      .orderBy('created_at');
    expect(audits.map((r) => [r.input.before.monthly_budget_usd, r.input.after.monthly_budget_usd])).toEqual([
      [50, 123.456789],
      [123.456789, 0],
    ]);
  });
});

describe('audit logs and events', () => {
  it('POST /v1/events publishes test.* (admin+) and the audit trail shows it, filtered and paginated', async () => {
    const t = await newTeam(stack.db);
    const a = client(url, t.admin.token);
    const h = { headers: { 'x-workspace-id': t.ws.id } };
    expectError(
      await client(url, t.member.token).post('/v1/events', { event_type: 'test.event' }, h),
      403,
      'permission_denied',
    );
    expectError(
      await a.post('/v1/events', { event_type: 'workspace.created', payload: {} }, h),
      422,
      'validation_failed',
    );
    expectError(await a.post('/v1/events', { event_type: 'test.nope' }, h), 422, 'validation_failed');
    expectError(
      await a.post('/v1/events', { event_type: 'test.event', payload: { message: 5 } }, h),
      422,
      'validation_failed',
    );
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await a.post('/v1/events', { event_type: 'test.event', payload: { message: `m${i}` } }, h);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ event_id: expect.any(String), event_type: 'test.event' });
      ids.push(res.body.event_id);
    }
    const outbox = await stack.db('event_outbox').whereIn('id', ids);
    expect(outbox.every((r) => r.workspace_id === t.ws.id && r.envelope.actor_user_id === t.admin.id)).toBe(
      true,
    );

    // The seeder is not running in this file: write the rows it would, then read them back through the API.
    for (const id of ids)
      await stack.db('audit_logs').insert({
        workspace_id: t.ws.id,
        actor_type: 'user',
        actor_id: t.admin.id,
        action: 'test.event',
        event_id: id,
      });
    const p1 = await a.get('/v1/audit-logs?action=test.event&limit=2', h);
    expect(p1.status).toBe(200);
    expect(p1.body.data).toHaveLength(2);
    const p2 = await a.get(
      `/v1/audit-logs?action=test.event&limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`,
      h,
    );
    expect([...p1.body.data, ...p2.body.data].map((r: { event_id: string }) => r.event_id).sort()).toEqual(
      [...ids].sort(),
    );
    // A cursor from one filter set is refused for another.
    expectError(
      await a.get(`/v1/audit-logs?action=member.added&cursor=${encodeURIComponent(p1.body.next_cursor)}`, h),
      422,
      'validation_failed',
    );
    expectError(await a.get('/v1/audit-logs?from=yesterday', h), 422, 'validation_failed');
    expectError(await client(url, t.member.token).get('/v1/audit-logs', h), 403, 'permission_denied');
    await eventually(async () => (await stack.bus.queue('system').getJob(ids[0]!)) !== undefined);
  });
});
