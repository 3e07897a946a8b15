import { randomUUID } from 'node:crypto';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { getSettings } from '@raptorflow/core/config/settings';
import { createApp } from '../../services/gateway/src/app';
import { newAgent, newUser, newWorkspace } from '../support/factories';
import type { TestUser } from '../support/factories';
import { client, listen } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const app = createApp({
    settings: getSettings(),
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
  });
  ({ url, close } = await listen(app));
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
    correlation_id: expect.any(String),
  });
}

describe('POST /v1/workspaces', () => {
  let user: TestUser;
  beforeEach(async () => {
    user = await newUser();
  });

  it('creates the workspace, makes the creator owner and writes workspace.created in the same transaction', async () => {
    const res = await client(url, user.token).post('/v1/workspaces', { name: '  Acme  ' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Acme',
      role: 'owner',
      created_at: expect.any(String),
    });
    const member = await stack.db('workspace_members').where({ workspace_id: res.body.id }).first();
    expect(member).toMatchObject({ user_id: user.id, role: 'owner' });
    const outbox = await stack.db('event_outbox').where({ workspace_id: res.body.id });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ event_type: 'workspace.created', queue: 'workspace' });
    expect(outbox[0].envelope).toMatchObject({
      event_type: 'workspace.created',
      workspace_id: res.body.id,
      actor_user_id: user.id,
      correlation_id: res.headers.get('x-correlation-id'),
      payload: { workspace_id: res.body.id, name: 'Acme', created_by: user.id },
    });
    // Enqueued right after commit: the job id is the event id.
    const job = await stack.bus.queue('workspace').getJob(outbox[0].id);
    expect(job?.name).toBe('workspace.created');
  });

  it.each([
    [{}, 'body.name'],
    [{ name: '' }, 'body.name'],
    [{ name: 'x'.repeat(201) }, 'body.name'],
    [{ name: 'ok', extra: 1 }, 'body.extra'],
    [{ name: 42 }, 'body.name'],
  ])('rejects %j with 422 and writes nothing', async (body, path) => {
    const before = await stack.db('workspaces').count<{ count: string }[]>('* as count');
    const res = await client(url, user.token).post('/v1/workspaces', body);
    expectError(res, 422, 'validation_failed');
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(path);
    const after = await stack.db('workspaces').count<{ count: string }[]>('* as count');
    expect(after[0]!.count).toBe(before[0]!.count);
  });

  it('answers malformed JSON with 400 invalid_json and an oversized body with 413', async () => {
    const c = client(url, user.token);
    expectError(await c.call('POST', '/v1/workspaces', { rawBody: '{"name": ' }), 400, 'invalid_json');
    const big = JSON.stringify({ name: 'x', pad: 'y'.repeat(1024 * 1024) });
    expectError(await c.call('POST', '/v1/workspaces', { rawBody: big }), 413, 'payload_too_large');
  });
});

describe('authentication', () => {
  it('401s without a token, with a garbage token and with a token for another audience', async () => {
    expectError(await client(url).get('/v1/workspaces'), 401, 'unauthenticated');
    expectError(await client(url, 'not-a-jwt').get('/v1/workspaces'), 401, 'unauthenticated');
    const res = await client(url).get('/v1/workspaces', { headers: { authorization: 'Basic abc' } });
    expectError(res, 401, 'unauthenticated');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('never echoes the token in the error', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const res = await client(url, token).get('/v1/workspaces');
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain(token);
  });
});

describe('GET /v1/workspaces', () => {
  it("lists only the caller's workspaces with their role, paginated by an opaque cursor", async () => {
    const me = await newUser();
    const other = await newUser();
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await newWorkspace(stack.db, me, { name: `mine-${i}` }));
    const shared = await newWorkspace(stack.db, other, { members: [{ user: me, role: 'admin' }] });
    await newWorkspace(stack.db, other);

    const c = client(url, me.token);
    const page1 = await c.get('/v1/workspaces?limit=3');
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(3);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await c.get(`/v1/workspaces?limit=3&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
    expect(page2.body.next_cursor).toBeNull();
    const all = [...page1.body.data, ...page2.body.data];
    expect(all.map((w: { id: string }) => w.id).sort()).toEqual([...mine.map((w) => w.id), shared.id].sort());
    expect(all.find((w: { id: string }) => w.id === shared.id).role).toBe('admin');
  });

  it('rejects a forged cursor and an out-of-range limit with 422', async () => {
    const me = await newUser();
    const c = client(url, me.token);
    expectError(await c.get('/v1/workspaces?limit=101'), 422, 'validation_failed');
    expectError(await c.get('/v1/workspaces?cursor=abc.def'), 422, 'validation_failed');
  });
});

describe('workspace resolution and GET /v1/agents', () => {
  it('resolves header → query → path → oldest membership, and checks membership', async () => {
    const me = await newUser();
    const stranger = await newUser();
    const first = await newWorkspace(stack.db, me);
    const second = await newWorkspace(stack.db, me);
    await newAgent(stack.db, first.id, { key: 'seer' });
    await newAgent(stack.db, second.id, { key: 'herald', default_flow: 'muse' });
    const c = client(url, me.token);
    // No explicit id: the oldest membership.
    expect((await c.get('/v1/agents')).body.data.map((a: { key: string }) => a.key)).toEqual(['seer']);
    const viaHeader = await c.get('/v1/agents', { headers: { 'x-workspace-id': second.id } });
    expect(viaHeader.body.data.map((a: { key: string }) => a.key)).toEqual(['herald']);
    const viaQuery = await c.get(`/v1/agents?workspace_id=${second.id}`);
    expect(viaQuery.body.data.map((a: { key: string }) => a.key)).toEqual(['herald']);
    expect((await c.get(`/v1/workspaces/${second.id}`)).body).toMatchObject({ id: second.id, role: 'owner' });

    expectError(
      await c.get('/v1/agents', { headers: { 'x-workspace-id': 'nope' } }),
      422,
      'validation_failed',
    );
    expectError(
      await c.get(`/v1/workspaces/${first.id}`, { headers: { 'x-workspace-id': second.id } }),
      422,
      'validation_failed',
    );
    const s = client(url, stranger.token);
    expectError(
      await s.get('/v1/agents', { headers: { 'x-workspace-id': first.id } }),
      403,
      'permission_denied',
    );
    expectError(await s.get(`/v1/workspaces/${first.id}`), 403, 'permission_denied');
    expectError(await s.get(`/v1/workspaces/${randomUUID()}`), 403, 'permission_denied');
    expectError(await s.get('/v1/agents'), 404, 'not_found');
  });
});

describe('GET /v1/agents from the cached page', () => {
  it('answers the cached page as the first (loaded) answer: same bytes, type and length; HEAD and If-None-Match as res.send', async () => {
    const me = await newUser();
    const ws = await newWorkspace(stack.db, me);
    await newAgent(stack.db, ws.id, { key: 'seer' });
    const get = (headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${url}/v1/agents`, { method, headers: { authorization: `Bearer ${me.token}`, ...headers } });
    const loaded = await get();
    const cached = await get();
    for (const res of [loaded, cached]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
    const [loadedBody, cachedBody] = [await loaded.text(), await cached.text()];
    expect(cachedBody).toBe(loadedBody);
    expect(JSON.parse(cachedBody)).toMatchObject({ data: [{ key: 'seer' }], next_cursor: null });
    expect(cached.headers.get('content-length')).toBe(String(Buffer.byteLength(cachedBody)));
    const head = await get({}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(cachedBody)));
    expect(await head.text()).toBe('');
    // RFC 9110: `If-None-Match: *` on an existing representation is a 304, as Express's res.send answers it.
    // (fetch adds Cache-Control: no-cache to a conditional request unless it has a Cache-Control of its own.)
    const conditional = await get({ 'if-none-match': '*', 'cache-control': 'max-age=0' });
    expect(conditional.status).toBe(304);
    expect(await conditional.text()).toBe('');
  });
});

describe('edges', () => {
  it('echoes a valid X-Correlation-Id, replaces an unsafe one, and 404s unknown routes in the error shape', async () => {
    const ok = await client(url).get('/health/live', { headers: { 'x-correlation-id': 'abc-123.X_y' } });
    expect(ok.headers.get('x-correlation-id')).toBe('abc-123.X_y');
    const bad = await client(url).get('/health/live', {
      headers: { 'x-correlation-id': 'has space<script>' },
    });
    expect(bad.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await client(url).get('/nope', { headers: { 'x-correlation-id': 'corr-1' } });
    expectError(missing, 404, 'not_found');
    expect(missing.body.correlation_id).toBe('corr-1');
  });

  it('reports health with dependency latencies', async () => {
    const res = await client(url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: expect.stringMatching(/^(ok|degraded)$/),
      environment: 'test',
      checks: {
        redis: { status: 'ok', latency_ms: expect.any(Number) },
        database: { status: 'ok', latency_ms: expect.any(Number) },
        vertex_ai: { configured: false },
        anthropic: { configured: false },
        models: 'local',
      },
    });
  });
});
