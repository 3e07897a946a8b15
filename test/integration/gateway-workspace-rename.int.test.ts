import { newTeam, newUser } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/** PATCH /v1/workspaces/:workspace_id: admins and owners rename a workspace; every rename is audited. */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

describe('PATCH /v1/workspaces/:workspace_id', () => {
  it('renames for an owner or an admin, answers the workspace with their role, and audits before/after', async () => {
    const t = await newTeam(stack.db);
    const path = `/v1/workspaces/${t.ws.id}`;
    const byOwner = await client(url, t.owner.token).call('PATCH', path, {
      body: { name: '  Acme Europe ' },
    });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual({
      id: t.ws.id,
      name: 'Acme Europe',
      role: 'owner',
      created_at: expect.any(String),
    });
    const byAdmin = await client(url, t.admin.token).call('PATCH', path, { body: { name: 'Acme EU' } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ name: 'Acme EU', role: 'admin' });
    expect((await client(url, t.member.token).get(path)).body).toMatchObject({
      name: 'Acme EU',
      role: 'member',
    });

    const audits = await stack
      .db('audit_logs')
      .where({ workspace_id: t.ws.id, action: 'workspace.updated' })
      .orderBy('created_at')
      .select('actor_id', 'resource_type', 'resource_id', 'input');
    expect(audits).toEqual([
      {
        actor_id: t.owner.id,
        resource_type: 'workspace',
        resource_id: t.ws.id,
        input: { before: { name: t.ws.name }, after: { name: 'Acme Europe' } },
      },
      {
        actor_id: t.admin.id,
        resource_type: 'workspace',
        resource_id: t.ws.id,
        input: { before: { name: 'Acme Europe' }, after: { name: 'Acme EU' } },
      },
    ]);
  });

  it('refuses members (403) and outsiders (403), changing nothing', async () => {
    const t = await newTeam(stack.db);
    const path = `/v1/workspaces/${t.ws.id}`;
    const member = await client(url, t.member.token).call('PATCH', path, { body: { name: 'Mine now' } });
    expectError(member, 403, 'permission_denied');
    const outsider = await client(url, (await newUser()).token).call('PATCH', path, { body: { name: 'x' } });
    expectError(outsider, 403, 'permission_denied');
    expect((await stack.db('workspaces').where({ id: t.ws.id }).first('name')).name).toBe(t.ws.name);
    expect(
      await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'workspace.updated' }),
    ).toEqual([]);
  });

  it('applies the rules of a new name: 422 naming the field, nothing changed', async () => {
    const t = await newTeam(stack.db);
    const owner = client(url, t.owner.token);
    const path = `/v1/workspaces/${t.ws.id}`;
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(201) },
      { name: 7 },
      { name: 'ok', role: 'x' },
    ]) {
      const res = await owner.call('PATCH', path, { body });
      expectError(res, 422, 'validation_failed');
      expect(JSON.stringify(res.body.error.details)).toContain('body');
    }
    expect((await stack.db('workspaces').where({ id: t.ws.id }).first('name')).name).toBe(t.ws.name);
    expect((await owner.call('PATCH', path, { body: { name: 'x'.repeat(200) } })).status).toBe(200);
    expect((await owner.call('PATCH', `/v1/workspaces/not-a-uuid`, { body: { name: 'y' } })).status).toBe(
      422,
    );
  });
});
