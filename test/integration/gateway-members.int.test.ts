import { randomUUID } from 'node:crypto';
import { PermissionDeniedError } from '@raptorflow/core/errors/app-error';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { MemberService } from '../../services/gateway/src/members/member.service';
import { MembershipCache } from '../../services/gateway/src/workspaces/membership-cache';
import { MembershipService } from '../../services/gateway/src/workspaces/membership.service';
import { newTeam, newUser } from '../support/factories';
import type { TestTeam } from '../support/factories';
import { expectError, startGateway, useGateway } from '../support/gateway';
import { client, eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

const membersPath = (t: TestTeam) => `/v1/workspaces/${t.ws.id}/members`;

describe('members', () => {
  it('lists members (admin+) with cursor pagination', async () => {
    const t = await newTeam(stack.db);
    const c = client(url, t.admin.token);
    const p1 = await c.get(`${membersPath(t)}?limit=2`);
    expect(p1.status).toBe(200);
    expect(p1.body.data).toHaveLength(2);
    const p2 = await c.get(`${membersPath(t)}?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
    expect(p2.body.next_cursor).toBeNull();
    const all = [...p1.body.data, ...p2.body.data];
    expect(all.map((m: { user_id: string; role: string }) => `${m.role}:${m.user_id}`).sort()).toEqual(
      [`owner:${t.owner.id}`, `admin:${t.admin.id}`, `member:${t.member.id}`].sort(),
    );
    expectError(await client(url, t.member.token).get(membersPath(t)), 403, 'permission_denied');
  });

  it('adds a member (201, audited), refuses a duplicate (409) and owner grants by admins (403)', async () => {
    const t = await newTeam(stack.db);
    const newcomer = await newUser();
    const c = client(url, t.admin.token);
    const added = await c.post(membersPath(t), { user_id: newcomer.id, role: 'member' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ user_id: newcomer.id, role: 'member' });
    expectError(await c.post(membersPath(t), { user_id: newcomer.id }), 409, 'conflict');
    expectError(
      await c.post(membersPath(t), { user_id: randomUUID(), role: 'owner' }),
      403,
      'permission_denied',
    );
    expectError(await c.post(membersPath(t), { user_id: 'not-a-uuid' }), 422, 'validation_failed');
    expectError(
      await c.post(membersPath(t), { user_id: randomUUID(), role: 'god' }),
      422,
      'validation_failed',
    );
    expectError(
      await client(url, t.member.token).post(membersPath(t), { user_id: randomUUID() }),
      403,
      'permission_denied',
    );
    const audit = await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'member.added' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_type: 'user',
      actor_id: t.admin.id,
      resource_id: newcomer.id,
      input: { before: null, after: { role: 'member' } },
    });
    // The newcomer's access works at once (cache invalidated on the change).
    expect((await client(url, newcomer.token).get(`/v1/workspaces/${t.ws.id}`)).status).toBe(200);
  });

  it('changes roles: owner-only for owner grants/revokes, last owner protected (409), audited before/after', async () => {
    const t = await newTeam(stack.db);
    const o = client(url, t.owner.token);
    const a = client(url, t.admin.token);
    expectError(
      await a.call('PATCH', `${membersPath(t)}/${t.member.id}`, { body: { role: 'owner' } }),
      403,
      'permission_denied',
    );
    expectError(
      await a.call('PATCH', `${membersPath(t)}/${t.owner.id}`, { body: { role: 'member' } }),
      403,
      'permission_denied',
    );
    expectError(
      await o.call('PATCH', `${membersPath(t)}/${t.owner.id}`, { body: { role: 'admin' } }),
      409,
      'conflict',
    );
    expectError(
      await o.call('PATCH', `${membersPath(t)}/${randomUUID()}`, { body: { role: 'admin' } }),
      404,
      'not_found',
    );
    expectError(
      await o.call('PATCH', `${membersPath(t)}/${t.member.id}`, { body: { role: 'boss' } }),
      422,
      'validation_failed',
    );
    const promoted = await a.call('PATCH', `${membersPath(t)}/${t.member.id}`, { body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ user_id: t.member.id, role: 'admin' });
    // With a second owner, the first can step down.
    expect(
      (await o.call('PATCH', `${membersPath(t)}/${t.admin.id}`, { body: { role: 'owner' } })).status,
    ).toBe(200);
    expect(
      (await o.call('PATCH', `${membersPath(t)}/${t.owner.id}`, { body: { role: 'member' } })).status,
    ).toBe(200);
    const changes = await stack
      .db('audit_logs')
      .where({ workspace_id: t.ws.id, action: 'member.role_changed' })
      .orderBy('created_at');
    expect(changes.map((r) => [r.resource_id, r.input.before.role, r.input.after.role])).toEqual([
      [t.member.id, 'member', 'admin'],
      [t.admin.id, 'admin', 'owner'],
      [t.owner.id, 'owner', 'member'],
    ]);
    // The demoted owner lost owner rights immediately.
    expectError(
      await o.call('PUT', `/v1/workspaces/${t.ws.id}/budget`, { body: { monthly_budget_usd: 1 } }),
      403,
      'permission_denied',
    );
  });

  it('removes members (204), never the last owner, and two owners demoting each other concurrently keep one owner', async () => {
    const t = await newTeam(stack.db);
    const o = client(url, t.owner.token);
    expectError(
      await client(url, t.admin.token).call('DELETE', `${membersPath(t)}/${t.owner.id}`),
      403,
      'permission_denied',
    );
    expectError(await o.call('DELETE', `${membersPath(t)}/${t.owner.id}`), 409, 'conflict');
    expect((await o.call('DELETE', `${membersPath(t)}/${t.member.id}`)).status).toBe(204);
    expectError(await o.call('DELETE', `${membersPath(t)}/${t.member.id}`), 404, 'not_found');
    expectError(await client(url, t.member.token).get(`/v1/workspaces/${t.ws.id}`), 403, 'permission_denied');

    await o.call('PATCH', `${membersPath(t)}/${t.admin.id}`, { body: { role: 'owner' } });
    const a = client(url, t.admin.token);
    const results = await Promise.all([
      o.call('PATCH', `${membersPath(t)}/${t.admin.id}`, { body: { role: 'member' } }),
      a.call('PATCH', `${membersPath(t)}/${t.owner.id}`, { body: { role: 'member' } }),
    ]);
    // One wins; the other finds either no second owner left (409) or itself already demoted (403).
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = await stack.db('workspace_members').where({ workspace_id: t.ws.id, role: 'owner' });
    expect(owners).toHaveLength(1);
  });

  it('re-checks the actor under the lock: a role the guard saw a moment ago is not trusted', async () => {
    const t = await newTeam(stack.db);
    // The admin passed the guard as admin (stale actor), then got demoted before the write ran.
    await stack
      .db('workspace_members')
      .where({ workspace_id: t.ws.id, user_id: t.admin.id })
      .update({ role: 'member' });
    const service = new MemberService({
      db: stack.db,
      audit: new AuditLogService({ db: stack.db }),
      memberships: new MembershipService({ db: stack.db, cache: new MembershipCache({ ttlMs: 0, max: 0 }) }),
    });
    await expect(
      service.remove({ userId: t.admin.id, role: 'admin' }, t.ws.id, t.member.id),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(
      service.changeRole({ userId: t.admin.id, role: 'owner' }, t.ws.id, t.member.id, 'owner'),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(
      await stack.db('workspace_members').where({ workspace_id: t.ws.id, user_id: t.member.id }).first(),
    ).toMatchObject({
      role: 'member',
    });
  });
});

describe('membership cache across replicas', () => {
  it('a removal on one gateway replica takes effect on another at once (Redis pub/sub)', async () => {
    const other = await startGateway(stack);
    try {
      const t = await newTeam(stack.db);
      const path = `/v1/workspaces/${t.ws.id}`;
      // Warm replica B's cache with the member's access.
      expect((await client(other.url, t.member.token).get(path)).status).toBe(200);
      // Replica A removes the member.
      expect(
        (await client(url, t.owner.token).call('DELETE', `${membersPath(t)}/${t.member.id}`)).status,
      ).toBe(204);
      await eventually(
        async () => (await client(other.url, t.member.token).get(path)).status === 403,
        2_000,
        20,
      );
    } finally {
      await other.close();
    }
  });
});
