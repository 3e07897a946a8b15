import { connect } from 'node:net';
import { lordsWorkspace } from '../support/agent-runs';
import type { TestUser, TestWorkspace } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';
import { fillPath } from '../support/gateway-routes';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';

/**
 * Hostile input the database or the JSON encoder cannot take (NUL bytes, lone surrogates, deep nesting,
 * dates PostgreSQL has no year for) and requests Node refuses before Express sees them: every one is a 4xx
 * in the error shape, naming the field, never a 500.
 */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
let owner: TestUser;
let ws: TestWorkspace;
beforeAll(async () => {
  url = gateway.url();
  ({ owner, ws } = await lordsWorkspace(stack.db));
});

function fieldsOf(body: any): string[] {
  return (body.error.details?.fields ?? []).map((f: { path: string }) => f.path);
}

async function expect422(res: { status: number; body: any }, field: string, message?: RegExp): Promise<void> {
  expectError(res, 422, 'validation_failed');
  expect(fieldsOf(res.body)).toContain(field);
  if (message) expect(res.body.error.message).toMatch(message);
}

describe('NUL bytes and lone surrogates', () => {
  const nul = 'a\u0000b';

  it('are refused in every body field that reaches PostgreSQL, naming the field', async () => {
    const c = client(url, owner.token);
    const h = { headers: { 'x-workspace-id': ws.id } };
    await expect422(await c.post('/v1/workspaces', { name: nul }), 'body.name', /NUL/);
    await expect422(
      await c.call('PUT', `/v1/workspaces/${ws.id}/guardrails`, { body: { banned_phrases: ['ok', nul] } }),
      'body.banned_phrases.1',
    );
    await expect422(
      await c.post('/v1/agent-runs', { agent: 'cognition', input: { topic: nul } }, h),
      'body.input.topic',
    );
    await expect422(await c.post('/v1/agent-runs', { agent: nul, input: { topic: 't' } }, h), 'body.agent');
    await expect422(
      await c.post('/v1/events', { event_type: 'test.event', payload: { data: { deep: [nul] } } }, h),
      'body.payload.data.deep.0',
    );
    // Keys reach jsonb columns too.
    await expect422(
      await c.post('/v1/events', { event_type: 'test.event', payload: { data: { [nul]: 1 } } }, h),
      'body.payload.data.a\\u0000b',
    );
    // A lone surrogate is not Unicode text: jsonb refuses its escape like it refuses \u0000.
    await expect422(
      await c.post('/v1/events', { event_type: 'test.event', payload: { message: 'x\ud800' } }, h),
      'body.payload.message',
      /surrogate/,
    );
  });

  it('are refused in query filters and path parameters', async () => {
    const c = client(url, owner.token);
    const h = { headers: { 'x-workspace-id': ws.id } };
    await expect422(await c.get('/v1/audit-logs?action=a%00b', h), 'query.action');
    await expect422(await c.get('/v1/agent-runs?agent=a%00b', h), 'query.agent');
    await expect422(await c.get('/v1/agent-runs/a%00b', h), 'path.id');
  });

  it('leaves paired surrogates (emoji), RTL marks and zero-width joiners alone', async () => {
    const c = client(url, owner.token);
    const name = 'ws 👩‍💻 \u200f\u05e9\u05dc\u05d5\u05dd \u200d \uffff';
    const res = await c.post('/v1/workspaces', { name });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe(name);
  });
});

describe('JSON nesting', () => {
  // Built as text: JSON.stringify itself overflows the stack long before 5,000 levels of objects.
  const nested = (levels: number): string => `${'{"d":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
  const event = (data: string) => `{"event_type":"test.event","payload":{"data":${data}}}`;

  it('refuses a body nested deeper than 32 levels on every route, before any handler runs', async () => {
    const c = client(url, owner.token);
    const h = { headers: { 'x-workspace-id': ws.id } };
    // ~5,000 levels in 20 kB: enough to overflow JSON.stringify's stack on the way to the outbox.
    const deep = event(nested(5_000));
    expect(deep.length).toBeGreaterThan(20_000);
    await expect422(await c.call('POST', '/v1/events', { ...h, rawBody: deep }), 'body', /nest.*32/);
    // Same limit on a route whose schema would refuse the body anyway, and without authentication.
    await expect422(await c.call('POST', '/v1/workspaces', { rawBody: nested(40) }), 'body', /32/);
    await expect422(await client(url).call('POST', '/v1/workspaces', { rawBody: nested(40) }), 'body', /32/);
    const arrays = `${'['.repeat(33)}${']'.repeat(33)}`;
    await expect422(await c.call('PUT', `/v1/workspaces/${ws.id}/budget`, { rawBody: arrays }), 'body');
  });

  it('accepts exactly 32 levels', async () => {
    const c = client(url, owner.token);
    const h = { headers: { 'x-workspace-id': ws.id } };
    // body (1) → payload (2) → data: 30 nested objects (levels 3 to 32) → a string leaf.
    const res = await c.call('POST', '/v1/events', { ...h, rawBody: event(nested(30)) });
    expect(res.status).toBe(202);
    const over = await c.call('POST', '/v1/events', { ...h, rawBody: event(nested(31)) });
    await expect422(over, 'body', /32/);
  });
});

describe('dates outside 1970–9999', () => {
  const queries = [
    ['/v1/costs/summary?month=0000-01', 'query.month'],
    ['/v1/costs/daily?from=0000-01-01&to=0000-01-02', 'query.from'],
    ['/v1/costs/daily?from=1969-12-01&to=1969-12-31', 'query.to'],
    ['/v1/agent-runs?from=0000-01-01T00:00:00Z', 'query.from'],
    ['/v1/agent-runs?to=1969-12-31T23:59:59Z', 'query.to'],
    ['/v1/agent-runs/stats?to=0000-01-01T00:00:00Z', 'query.to'],
    ['/v1/agent-runs/stats?from=0000-06-01T00:00:00Z', 'query.from'],
    ['/v1/audit-logs?from=0000-01-01T00:00:00Z', 'query.from'],
    ['/v1/audit-logs?to=0000-01-01T00:00:00%2B01:00', 'query.to'],
  ] as const;

  it.each(queries)('%s → 422 naming %s', async (path, field) => {
    const res = await client(url, owner.token).get(path, { headers: { 'x-workspace-id': ws.id } });
    await expect422(res, field, /1970/);
  });

  it('accepts the edges of the range', async () => {
    const c = client(url, owner.token);
    const h = { headers: { 'x-workspace-id': ws.id } };
    for (const path of [
      '/v1/costs/summary?month=1970-01',
      '/v1/costs/summary?month=9999-12',
      '/v1/costs/daily?from=9999-12-01&to=9999-12-31',
      '/v1/costs/daily?from=1970-01-01&to=1970-01-31',
      '/v1/agent-runs?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z',
      '/v1/agent-runs/stats?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z',
      '/v1/audit-logs?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z',
    ])
      expect({ path, status: (await c.get(path, h)).status }).toEqual({ path, status: 200 });
  });
});

describe('requests Node refuses before Express', () => {
  it('answers a 40 kB Authorization header with a 431 in the error shape', async () => {
    const res = await fetch(`${url}/v1/workspaces`, {
      headers: { authorization: `Bearer ${'x'.repeat(40_000)}` },
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as any;
    expectError({ status: res.status, body }, 431, 'request_header_too_large');
    expect(res.headers.get('x-correlation-id')).toBe(body.correlation_id);
  });

  it('answers a malformed request line with a 400 in the error shape', async () => {
    const raw = await rawExchange('GET /v1/workspaces HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expectError({ status: 400, body }, 400, 'bad_request');
  });
});

describe('absolute-form request targets', () => {
  // `GET http://host/v1/workspaces HTTP/1.1` is valid HTTP (proxies send it); Express routes it by its path,
  // so the authentication in front of /v1 must see that path too, not the raw target.
  const signedIn = GATEWAY_ENDPOINTS.filter((e) => !['none', 'platform-admin'].includes(e.role));

  it('meet the same authentication as their path on every signed-in route', async () => {
    expect(signedIn.length).toBeGreaterThan(25);
    for (const endpoint of signedIn) {
      const path = fillPath(endpoint.path, () => '00000000-0000-4000-8000-000000000000');
      const target = `http://${new URL(url).host}${path}`;
      const raw = await rawExchange(
        `${endpoint.method.toUpperCase()} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect({ target, status: raw.slice(0, 12) }).toEqual({ target, status: 'HTTP/1.1 401' });
    }
  });

  it('are answered as their path is once signed in', async () => {
    const target = `http://${new URL(url).host}/v1/workspaces`;
    const raw = await rawExchange(
      `GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${owner.token}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(body.data.map((w: { id: string }) => w.id)).toContain(ws.id);
  });
});

/** Sends bytes no HTTP client would, and reads the answer until the server closes. */
function rawExchange(request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}
