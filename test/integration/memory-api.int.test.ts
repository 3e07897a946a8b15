import { randomUUID } from 'node:crypto';
import { newTeam } from '../support/factories';
import type { TestTeam } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/**
 * /v1/memory through the real gateway (embeddings by the offline stand-in, as in development): roles,
 * audit, validity history, search, forget-a-run, bad input. Every 2xx body is checked against its declared
 * schema by the test client.
 */
const stack = openStack();
const gateway = useGateway(stack);

function as(t: TestTeam, who: 'owner' | 'admin' | 'member') {
  const c = client(gateway.url(), t[who].token);
  const headers = { 'x-workspace-id': t.ws.id };
  return {
    get: (p: string) => c.get(p, { headers }),
    post: (p: string, body: unknown) => c.post(p, body, { headers }),
    patch: (p: string, body: unknown) => c.call('PATCH', p, { body, headers }),
    del: (p: string) => c.call('DELETE', p, { headers }),
  };
}

it('members write one item or a batch, list and read them; every write is audited', async () => {
  const t = await newTeam(stack.db);
  const m = as(t, 'member');
  const one = await m.post('/v1/memory', {
    kind: 'brand',
    subject: 'voice',
    content: 'Warm, plain and a little playful.',
    metadata: { source: 'brand book' },
  });
  expect(one.status).toBe(201);
  expect(one.body).toMatchObject({
    kind: 'brand',
    agent: null,
    subject: 'voice',
    created_by: t.member.id,
    superseded: null,
    valid_to: null,
    embedding_model: 'local:gemini-embedding-001',
  });
  const batch = await m.post('/v1/memory', {
    items: [
      { kind: 'finding', agent: 'cognition', content: 'Oat milk lattes sell best in Oslo.' },
      { kind: 'decision', content: 'The loyalty card stays free.' },
    ],
  });
  expect(batch.status).toBe(201);
  expect(batch.body.data.map((i: any) => i.kind)).toEqual(['finding', 'decision']);

  const listed = await m.get('/v1/memory?limit=2');
  expect(listed.body.data).toHaveLength(2);
  const rest = await m.get(`/v1/memory?limit=2&cursor=${listed.body.next_cursor}`);
  expect([...listed.body.data, ...rest.body.data].map((i: any) => i.id).sort()).toEqual(
    [one.body.id, ...batch.body.data.map((i: any) => i.id)].sort(),
  );
  expect((await m.get('/v1/memory?agent=cognition')).body.data.map((i: any) => i.kind)).toEqual(['finding']);
  expect((await m.get('/v1/memory?agent=shared&kind=decision')).body.data).toHaveLength(1);
  expect((await m.get(`/v1/memory/${one.body.id}`)).body.content).toBe('Warm, plain and a little playful.');

  const audits = await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'memory.write' });
  expect(audits).toHaveLength(3);
  expect(audits.every((a) => a.actor_id === t.member.id && a.resource_type === 'memory_item')).toBe(true);
});

it('keeps history: a new item on a subject closes the old one; as_of and history=true show the past', async () => {
  const t = await newTeam(stack.db);
  const m = as(t, 'member');
  const old = await m.post('/v1/memory', {
    kind: 'fact',
    subject: 'launch city',
    content: 'We launch in Bergen.',
    valid_from: '2026-09-01T00:00:00Z',
  });
  const now = await m.post('/v1/memory', {
    kind: 'fact',
    subject: 'launch city',
    content: 'We launch in Oslo.',
    valid_from: '2026-10-15T00:00:00Z',
  });
  expect(now.body.superseded).toBe(old.body.id);
  const current = await m.get('/v1/memory?subject=launch%20city');
  expect(current.body.data.map((i: any) => i.content)).toEqual(['We launch in Oslo.']);
  const october = await m.get('/v1/memory?subject=launch%20city&as_of=2026-10-01T00:00:00Z');
  expect(october.body.data.map((i: any) => i.content)).toEqual(['We launch in Bergen.']);
  const history = await m.get('/v1/memory?subject=launch%20city&history=true');
  expect(history.body.data).toHaveLength(2);
  const searched = await m.post('/v1/memory/search', {
    query: 'where do we launch',
    as_of: '2026-10-01T00:00:00Z',
  });
  expect(searched.body.data.map((h: any) => h.content)).toEqual(['We launch in Bergen.']);

  // Reopening the old version while the new one is current is a conflict; the edit changes nothing.
  expectError(await m.patch(`/v1/memory/${old.body.id}`, { valid_to: null }), 409, 'conflict');
  expect((await m.get(`/v1/memory/${old.body.id}`)).body.valid_to).toBe('2026-10-15T00:00:00.000Z');
});

it('searches hybrid: the related item first, an exact product name by full text, with its path', async () => {
  const t = await newTeam(stack.db);
  const m = as(t, 'member');
  await m.post('/v1/memory', {
    items: [
      { kind: 'finding', content: 'Nordic cafés are switching their lattes to oat milk.' },
      { kind: 'fact', content: 'The Zephyr-9X grinder launches in March.' },
      { kind: 'fact', content: 'Quarterly webinar on B2B cybersecurity compliance.' },
    ],
  });
  const r = await m.post('/v1/memory/search', { query: 'oat milk in Scandinavian cafes', k: 2 });
  expect(r.status).toBe(200);
  expect(r.body.path).toBe('exact');
  expect(r.body.embedding_model).toBe('local:gemini-embedding-001');
  expect(r.body.data[0].content).toContain('oat milk');
  expect(r.body.data).toHaveLength(2);
  const named = await m.post('/v1/memory/search', { query: 'Zephyr-9X', kind: ['fact'] });
  expect(named.body.data[0]).toMatchObject({ content: expect.stringContaining('Zephyr-9X') });
  expect(named.body.data[0].text_rank).toBeGreaterThan(0);
  expect((await m.get('/health')).status).toBe(200);
  const health = await client(gateway.url()).get('/health');
  expect(health.body.checks.memory).toEqual({ search_path: 'exact' });
});

it('edits re-embed new content; only admins and owners delete; forgetting a run deletes what it stored', async () => {
  const t = await newTeam(stack.db);
  const m = as(t, 'member');
  const item = await m.post('/v1/memory', { kind: 'brand', content: 'Plain words.' });
  const before = await stack.db('memory_items').where({ id: item.body.id }).first();
  const edited = await m.patch(`/v1/memory/${item.body.id}`, {
    content: 'Plain, warm words.',
    metadata: { v: 2 },
  });
  expect(edited.status).toBe(200);
  expect(edited.body).toMatchObject({ content: 'Plain, warm words.', metadata: { v: 2 } });
  const after = await stack.db('memory_items').where({ id: item.body.id }).first();
  expect(after.embedding).not.toEqual(before.embedding);
  expect(await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'memory.update' })).toHaveLength(
    1,
  );

  expectError(await m.del(`/v1/memory/${item.body.id}`), 403, 'permission_denied');
  expect((await as(t, 'admin').del(`/v1/memory/${item.body.id}`)).status).toBe(204);
  expectError(await m.get(`/v1/memory/${item.body.id}`), 404, 'not_found');
  expect(await stack.db('audit_logs').where({ workspace_id: t.ws.id, action: 'memory.delete' })).toHaveLength(
    1,
  );

  // Items a run stored (written as the runner does, with source_run_id).
  const [run] = await stack.db('agent_runs').insert(runRow(t)).returning('id');
  await stack.db('memory_items').insert(
    [1, 2].map((n) => ({
      workspace_id: t.ws.id,
      kind: 'finding',
      content: `Finding ${n}`,
      embedding: new Array(768).fill(0),
      embedding_model: 'local:gemini-embedding-001',
      source_run_id: run.id,
    })),
  );
  expectError(await m.del(`/v1/memory?source_run_id=${run.id}`), 403, 'permission_denied');
  const forgot = await as(t, 'owner').del(`/v1/memory?source_run_id=${run.id}`);
  expect(forgot.body).toEqual({ deleted: 2 });
  expect((await as(t, 'owner').del(`/v1/memory?source_run_id=${run.id}`)).body).toEqual({ deleted: 0 });
  expect(await stack.db('memory_items').where({ source_run_id: run.id })).toHaveLength(0);
});

it('refuses bad input with 422 naming the field, and stores nothing', async () => {
  const t = await newTeam(stack.db);
  const m = as(t, 'member');
  const field = async (body: unknown, path: string) => {
    const r = await m.post('/v1/memory', body);
    expectError(r, 422, 'validation_failed');
    expect(r.body.error.details.fields.map((f: any) => f.path)).toContain(path);
  };
  await field({ kind: 'fact', content: '' }, 'body.content');
  await field({ kind: 'fact', content: '   ' }, 'body.content');
  await field({ kind: 'fact', content: 'x'.repeat(8_001) }, 'body.content');
  await field({ kind: 'rumour', content: 'x' }, 'body.kind');
  await field({ kind: 'fact', content: 'x', agent: 'nobody' }, 'body.agent');
  await field({ kind: 'fact', content: 'x', valid_from: 'yesterday' }, 'body.valid_from');
  await field({ kind: 'fact', content: 'x', valid_from: '0001-01-01T00:00:00Z' }, 'body.valid_from');
  await field({ items: [] }, 'body.items');
  await field({ items: [{ kind: 'fact', content: 'ok' }, { kind: 'fact' }] }, 'body.items.1.content');
  await field({ items: Array.from({ length: 101 }, () => ({ kind: 'fact', content: 'x' })) }, 'body.items');
  const search = async (body: unknown, path: string) => {
    const r = await m.post('/v1/memory/search', body);
    expectError(r, 422, 'validation_failed');
    expect(r.body.error.details.fields.map((f: any) => f.path)).toContain(path);
  };
  await search({ query: 'x', k: 0 }, 'body.k');
  await search({ query: 'x', k: 101 }, 'body.k');
  await search({ query: '' }, 'body.query');
  await search({ query: 'x', as_of: 'not a date' }, 'body.as_of');
  expectError(await m.patch(`/v1/memory/${randomUUID()}`, {}), 422, 'validation_failed');
  expectError(await m.get('/v1/memory?kind=rumour'), 422, 'validation_failed');
  expect(await stack.db('memory_items').where({ workspace_id: t.ws.id })).toHaveLength(0);

  // A reversed validity window on an edit with new content: 422 before anything is embedded or paid for.
  const item = await m.post('/v1/memory', { kind: 'fact', content: 'Oat milk froths.' });
  const costRows = async () => (await stack.db('cost_logs').where({ workspace_id: t.ws.id })).length;
  const paid = await costRows();
  const reversed = await m.patch(`/v1/memory/${item.body.id}`, {
    content: 'Oat milk froths well.',
    valid_to: '2020-01-01T00:00:00Z',
  });
  expectError(reversed, 422, 'validation_failed');
  expect(reversed.body.error.details.fields.map((f: any) => f.path)).toEqual(['body.valid_to']);
  expect(await costRows()).toBe(paid);
  expect(await stack.db('memory_items').where({ id: item.body.id }).first()).toMatchObject({
    content: 'Oat milk froths.',
    valid_to: null,
  });
});

it('never shows, edits or deletes another workspace’s items', async () => {
  const a = await newTeam(stack.db);
  const b = await newTeam(stack.db);
  const item = await as(a, 'member').post('/v1/memory', { kind: 'fact', content: 'Secret plan for Oslo.' });
  const other = as(b, 'owner');
  expectError(await other.get(`/v1/memory/${item.body.id}`), 404, 'not_found');
  expectError(await other.patch(`/v1/memory/${item.body.id}`, { content: 'x' }), 404, 'not_found');
  expectError(await other.del(`/v1/memory/${item.body.id}`), 404, 'not_found');
  expect((await other.post('/v1/memory/search', { query: 'secret plan Oslo' })).body.data).toEqual([]);
  expect((await other.get('/v1/memory')).body.data).toEqual([]);
  // Naming the other workspace in the header is refused by membership.
  const c = client(gateway.url(), b.owner.token);
  expectError(
    await c.get('/v1/memory', { headers: { 'x-workspace-id': a.ws.id } }),
    403,
    'permission_denied',
  );
});

function runRow(t: TestTeam) {
  return {
    workspace_id: t.ws.id,
    agent_key: 'cognition',
    flow: 'research',
    // A run that never started needs no agent row (the runner resolves it at start).
    status: 'failed',
    input: JSON.stringify({ topic: 't', depth: 'quick' }),
    model: 'fast',
    requested_by: t.owner.id,
  };
}
