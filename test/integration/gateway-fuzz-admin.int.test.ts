import fc from 'fast-check';
import type { Settings } from '@raptorflow/core/config/settings';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';
import type { TestUser } from '../support/factories';
import { startFuzzTarget } from '../support/fuzz-target';
import { expectError, startGateway } from '../support/gateway';
import { fillPath, routeKey } from '../support/gateway-routes';
import { HOSTILE_STRINGS, encodeLoose, hostileString } from '../support/hostile-input';
import { client } from '../support/http';
import { BASIC_ADMIN, fingerprint } from '../support/schema-fuzz-routes';
import { openStack } from '../support/stack';

/**
 * The routes outside /v1's member guards — admin (Bull Board, dead letters), docs, metrics, health, console
 * configuration — with hostile queries and headers: never a 5xx, every refusal in the error shape, and the
 * credentials each one asks for. The schema fuzz (gateway-fuzz-schema.int.test.ts) sends them valid and
 * near-valid input; this file is about who gets in and what odd headers do.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1_000_000));
const stack = openStack();
let url: string;
let close: () => Promise<void>;
let settings: Settings;
let owner: TestUser;
let member: TestUser;
let wsId: string;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  const t = await startFuzzTarget(stack);
  ({ url, close, settings, owner, member } = t);
  wsId = t.ws.id;
});
afterAll(async () => {
  for (const c of closers) await c();
  await close?.();
  await stack.close();
});

const ADMIN = GATEWAY_ENDPOINTS.filter((e) => e.role === 'platform-admin');
const OPEN = GATEWAY_ENDPOINTS.filter((e) => e.role === 'none' && e.method === 'get');
const ZERO = '00000000-0000-4000-8000-000000000000';
const pathOf = (p: string) => fillPath(p, () => ZERO);

it('admin routes: 401 with a basic challenge without credentials, 403 for a signed-in non-admin, open to both admin credentials', async () => {
  expect(ADMIN.map(routeKey).sort()).toEqual([
    'GET /admin/events/failed',
    'GET /admin/queues',
    'POST /admin/events/:event_id/replay',
  ]);
  for (const e of ADMIN) {
    const path = pathOf(e.path);
    const method = e.method.toUpperCase();
    const anon = await client(url).call(method, path);
    expectError(anon, 401, 'unauthenticated');
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expectError(await client(url, member.token).call(method, path), 403, 'permission_denied');
    // A replay of an event nobody published: past auth, the route's own 404.
    const expected = e.method === 'post' ? 404 : 200;
    expect((await client(url, owner.token).call(method, path)).status).toBe(expected);
    expect((await client(url).call(method, path, { headers: { authorization: BASIC_ADMIN } })).status).toBe(
      expected,
    );
  }
  // One wrong password per surface (the lockout allows ten per address).
  const wrong = `Basic ${Buffer.from('admin:wrong').toString('base64')}`;
  for (const path of ['/admin/queues', '/admin/events/failed'])
    expectError(await client(url).get(path, { headers: { authorization: wrong } }), 401, 'unauthenticated');
});

/** Headers a client may send that no route reads, with hostile values (header-safe: Latin-1, no CR/LF). */
const headerValue = fc.oneof(
  hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 2_000)),
  fc.constantFrom('', ' ', '*/*', 'text/html', 'bytes=0-1', '../../etc/passwd', 'x'.repeat(8_000)),
);
const headers = fc.dictionary(
  fc.constantFrom(
    'accept',
    'accept-language',
    'accept-encoding',
    'cookie',
    'if-none-match',
    'range',
    'origin',
    'referer',
    'x-workspace-id',
    'x-correlation-id',
    'content-type',
    'user-agent',
  ),
  headerValue,
  { maxKeys: 4 },
);
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('limit', 'queue', 'x', 'url', 'format', 'configUrl', '__proto__'), hostileString),
  fc.oneof(hostileString, fc.constantFrom(...HOSTILE_STRINGS)),
  { maxKeys: 3 },
);

it('docs, metrics, health, console config and admin GETs answer hostile queries and headers without a 5xx', async () => {
  const routes = [...OPEN, ...ADMIN.filter((e) => e.method === 'get')];
  expect(routes.map(routeKey)).toEqual(
    expect.arrayContaining(['GET /docs', 'GET /openapi.json', 'GET /metrics', 'GET /admin/events/failed']),
  );
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), query, headers, async (e, q, h) => {
      sent++;
      const qs = Object.entries(q)
        .map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(v)}`)
        .join('&');
      const path = `${e.path}${qs ? `?${qs}` : ''}`;
      const auth: Record<string, string> = e.role === 'platform-admin' ? { authorization: BASIC_ADMIN } : {};
      // client() holds every 2xx to the route's declared status, content type and schema.
      const res = await client(url).get(path, { headers: { ...h, ...auth } });
      if (res.status >= 500)
        throw new Error(
          `GET ${path.slice(0, 300)} → ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`,
        );
      if (res.status >= 400 && typeof res.body === 'object')
        expect(Object.keys(res.body).sort()).toEqual(['correlation_id', 'error']);
      // What admins may list is refused only for its query (422), never for the hostile headers.
      if (e.role === 'platform-admin') expect([200, 400, 422, 431]).toContain(res.status);
    }),
    { numRuns: 200, seed: SEED },
  );
  expect(sent).toBeGreaterThanOrEqual(200);
}, 60_000);

it('/metrics in production: only the METRICS_TOKEN bearer reads it, whatever else is sent', async () => {
  const token = 'metrics-token-for-the-fuzz-0001';
  const prod = await startGateway(stack, { ...settings, isProduction: true, metricsToken: token });
  closers.push(prod.close);
  const m = client(prod.url);
  const anon = await m.get('/metrics');
  expectError(anon, 401, 'unauthenticated');
  expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
  // Without a token set it is not served at all: the unknown route's 404, correlation id included.
  const hidden = await startGateway(stack, { ...settings, isProduction: true, metricsToken: undefined });
  closers.push(hidden.close);
  const gone = await client(hidden.url).get('/metrics');
  expectError(gone, 404, 'not_found');
  expect(gone.body.error.message).toBe('No route for GET /metrics');
  const wrong = [
    `Bearer ${token}x`,
    `Bearer ${token.slice(0, -1)}`,
    `bearer  ${token} extra`,
    `Basic ${Buffer.from(`metrics:${token}`).toString('base64')}`,
    'Bearer ',
    `Bearer ${'x'.repeat(8_000)}`,
    owner.token,
    `Bearer ${owner.token}`,
  ];
  for (const authorization of wrong) {
    const res = await m.get('/metrics', { headers: { authorization } });
    if (res.status !== 401) throw new Error(`${authorization.slice(0, 40)} → ${res.status}`);
  }
  for (const s of HOSTILE_STRINGS.filter((x) => x.length < 1_000)) {
    const res = await m.get(`/metrics?${encodeLoose(s)}=${encodeLoose(s)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect([200, 400]).toContain(res.status);
  }
  const ok = await m.get('/metrics', { headers: { authorization: `Bearer ${token}` } });
  expect(ok.status).toBe(200);
  expect(String(ok.body)).toContain('raptorflow_');
});

it('names the nested field an event payload gets wrong (body.payload.<field>), and stores nothing', async () => {
  const c = client(url, owner.token);
  const h = { headers: { 'x-workspace-id': wsId } };
  const before = await fingerprint(stack.db);
  for (const [payload, field] of [
    [{ message: 5 }, 'body.payload.message'],
    [{ message: 'x'.repeat(1_001) }, 'body.payload.message'],
    [{ data: 'not an object' }, 'body.payload.data'],
  ] as const) {
    const res = await c.post('/v1/events', { event_type: 'test.event', payload }, h);
    expectError(res, 422, 'validation_failed');
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
  }
  expect(await fingerprint(stack.db)).toBe(before);
});
