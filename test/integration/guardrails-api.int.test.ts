import { newTeam } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

const EMPTY = { banned_phrases: [], banned_claims: [], required_disclaimers: [] };

it('reads empty rules by default; members read, admins replace (audited before → after)', async () => {
  const t = await newTeam(stack.db);
  const path = `/v1/workspaces/${t.ws.id}/guardrails`;
  const m = client(url, t.member.token);
  const first = await m.get(path);
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ workspace_id: t.ws.id, rules: EMPTY, updated_at: null });

  const rules = {
    banned_phrases: ['  guaranteed results '],
    banned_claims: ['clinically proven'],
    required_disclaimers: ['Results may vary.'],
  };
  expectError(await m.call('PUT', path, { body: rules }), 403, 'permission_denied');
  const a = client(url, t.admin.token);
  const put = await a.call('PUT', path, { body: rules });
  expect(put.status).toBe(200);
  expect(put.body).toEqual({
    workspace_id: t.ws.id,
    rules: { ...rules, banned_phrases: ['guaranteed results'] },
    updated_at: expect.any(String),
  });
  expect((await m.get(path)).body).toEqual(put.body);
  const row = await stack.db('workspace_guardrails').where({ workspace_id: t.ws.id }).first();
  expect(row).toMatchObject({ rules: put.body.rules, updated_by: t.admin.id });

  // A list left out is emptied: PUT replaces the whole set.
  const owner = client(url, t.owner.token);
  const second = await owner.call('PUT', path, { body: { banned_claims: ['cures everything'] } });
  expect(second.body.rules).toEqual({ ...EMPTY, banned_claims: ['cures everything'] });

  const audits = await stack
    .db('audit_logs')
    .where({ workspace_id: t.ws.id, action: 'guardrails.updated' })
    .orderBy('created_at');
  expect(audits.map((r) => [r.actor_id, r.input.before, r.input.after])).toEqual([
    [t.admin.id, EMPTY, put.body.rules],
    [t.owner.id, put.body.rules, second.body.rules],
  ]);
  expect(audits[0]).toMatchObject({ resource_type: 'workspace_guardrails', resource_id: t.ws.id });
});

it('refuses bad shapes with 422 and changes nothing', async () => {
  const t = await newTeam(stack.db);
  const path = `/v1/workspaces/${t.ws.id}/guardrails`;
  const a = client(url, t.admin.token);
  await a.call('PUT', path, { body: { banned_phrases: ['keep me'] } });
  const before = (await a.get(path)).body;
  for (const bad of [
    { banned_phrases: 'not a list' },
    { banned_phrases: [''] },
    { banned_phrases: [5] },
    { banned_claims: ['x'.repeat(501)] },
    { required_disclaimers: Array.from({ length: 201 }, (_, i) => `d${i}`) },
    { banned_words: ['x'] },
    [],
  ])
    expectError(await a.call('PUT', path, { body: bad }), 422, 'validation_failed');
  expect((await a.get(path)).body).toEqual(before);
  const audits = await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'guardrails.updated' });
  expect(audits).toHaveLength(1);
});
