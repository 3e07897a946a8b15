import { parseSettings } from '@raptorflow/core/config/settings';
import { mintDevToken } from '../../scripts/lib/dev-token';
import { newUser, newWorkspace } from '../support/factories';
import type { TestUser } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/**
 * A UUID is the same id in any case, and PostgreSQL agrees; every string key the gateway builds from one
 * (rate-limit buckets, cache entries, audit rows) must agree too, or a user gets a fresh bucket, a stale
 * cache entry or an audit trail that misses them by writing the same `sub` in upper case.
 */
const stack = openStack();
const USER_LIMIT = 6;
const gateway = useGateway(stack, () =>
  parseSettings({ ...process.env, RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT) }),
);

/** The same user, and a second token for them whose `sub` is the upper-case spelling of their id. */
async function twoSpellings(): Promise<{ user: TestUser; upper: string }> {
  const user = await newUser();
  const s = parseSettings(process.env);
  const upper = await mintDevToken({
    userId: user.id.toUpperCase(),
    secret: s.supabaseJwtSecret,
    audience: s.jwtAudience,
  });
  return { user, upper };
}

it('counts both spellings of a sub in one rate-limit bucket', async () => {
  const { user, upper } = await twoSpellings();
  const clients = [client(gateway.url(), user.token), client(gateway.url(), upper)];
  for (let i = 0; i < USER_LIMIT; i++) expect((await clients[i % 2]!.get('/v1/workspaces')).status).toBe(200);
  for (const c of clients) expectError(await c.get('/v1/workspaces'), 429, 'rate_limited');
});

it('shows both spellings the same workspaces and writes the audit trail with the lower-case id', async () => {
  const { user, upper } = await twoSpellings();
  const ws = await newWorkspace(stack.db, user);
  const lower = client(gateway.url(), user.token);
  const shouting = client(gateway.url(), upper);
  const a = await lower.get('/v1/workspaces');
  const b = await shouting.get('/v1/workspaces');
  expect(b.body.data).toEqual(a.body.data);
  expect(b.body.data.map((w: { id: string }) => w.id)).toEqual([ws.id]);

  expect(
    (await shouting.call('PUT', `/v1/workspaces/${ws.id}/budget`, { body: { monthly_budget_usd: 7 } }))
      .status,
  ).toBe(200);
  const rows = await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'budget.updated' });
  expect(rows.map((r) => r.actor_id)).toEqual([user.id]);
});

it('drops every cached membership of a removed member, however either side spelled the id', async () => {
  const owner = await newUser();
  const { user: m1, upper: m1Upper } = await twoSpellings();
  const m2 = await newUser();
  const ws = await newWorkspace(stack.db, owner, {
    members: [
      { user: m1, role: 'member' },
      { user: m2, role: 'member' },
    ],
  });
  const o = client(gateway.url(), owner.token);
  const asM1 = client(gateway.url(), m1Upper);
  const asM2 = client(gateway.url(), m2.token);
  // Both memberships are now cached by this gateway.
  expect((await asM1.get(`/v1/workspaces/${ws.id}`)).status).toBe(200);
  expect((await asM2.get(`/v1/workspaces/${ws.id}`)).status).toBe(200);

  // m1 came in with an upper-case sub and is removed by its lower-case id; m2 the other way round.
  expect((await o.call('DELETE', `/v1/workspaces/${ws.id}/members/${m1.id}`)).status).toBe(204);
  expect((await o.call('DELETE', `/v1/workspaces/${ws.id}/members/${m2.id.toUpperCase()}`)).status).toBe(204);
  expectError(await asM1.get(`/v1/workspaces/${ws.id}`), 403, 'permission_denied');
  expectError(await asM2.get(`/v1/workspaces/${ws.id}`), 403, 'permission_denied');
});

it('writes a member id given in upper case in lower case: one member, one spelling in the audit trail', async () => {
  const owner = await newUser();
  const m = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const o = client(gateway.url(), owner.token);
  const added = await o.post(`/v1/workspaces/${ws.id}/members`, {
    user_id: m.id.toUpperCase(),
    role: 'member',
  });
  expect(added.status).toBe(201);
  expect(added.body.user_id).toBe(m.id);
  expect(
    (
      await o.call('PATCH', `/v1/workspaces/${ws.id}/members/${m.id.toUpperCase()}`, {
        body: { role: 'admin' },
      })
    ).status,
  ).toBe(200);
  const ids = await stack
    .db('audit_logs')
    .where({ workspace_id: ws.id })
    .whereLike('action', 'member.%')
    .pluck('resource_id');
  expect(ids.length).toBeGreaterThanOrEqual(2);
  expect(new Set(ids)).toEqual(new Set([m.id]));
});
