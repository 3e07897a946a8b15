import express from 'express';
import helmet from 'helmet';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { correlationMiddleware } from '../../services/gateway/src/http/correlation.middleware';
import { createLogger } from '@raptorflow/core/logging/logger';
import { errorMiddleware, notFoundMiddleware } from '../../services/gateway/src/http/error.middleware';
import { getSettings, parseSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { AdminLoginThrottle } from '../../services/gateway/src/admin/admin-login-throttle.service';
import { BULL_BOARD_CSP, mountBullBoard } from '../../services/gateway/src/admin/bull-board';
import { JwtVerifier } from '../../services/gateway/src/auth/jwt-verifier';
import { newUser } from '../support/factories';
import type { TestUser } from '../support/factories';
import { client, listen } from '../support/http';
import { openStack } from '../support/stack';

const CHALLENGE = 'Basic realm="RaptorFlow Bull Board", charset="UTF-8"';
const stack = openStack();
const servers: Array<() => Promise<void>> = [];

/** The gateway's framing around the board, without the rest of the gateway. */
async function boardServer(settings: Settings) {
  const app = express();
  app.use(correlationMiddleware());
  // Like the gateway's edge: a JSON API's CSP, which the board must replace with its own.
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"] } } }));
  app.use(express.json());
  const verifier = new JwtVerifier({ secret: settings.supabaseJwtSecret, audience: settings.jwtAudience });
  // Each server counts failed sign-ins on its own keys, and generously: this file checks what refusals say;
  // the lockout itself is tested in admin-brute-force.int.test.ts.
  const loginThrottle = new AdminLoginThrottle({
    redis: stack.redis,
    prefix: `rl:bull-board-test:${stack.prefix.replace(/[{}]/g, '')}:${servers.length}`,
    maxFailures: 100,
  });
  const mount = mountBullBoard(app, { settings, bus: stack.bus, verifier, loginThrottle });
  app.use(notFoundMiddleware());
  app.use(errorMiddleware(createLogger('bull-board-test')));
  const { url, close } = await listen(app);
  servers.push(close);
  return { url, mount };
}

const basic = (user: string, pass: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`,
});

function expectError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
    correlation_id: res.headers.get('x-correlation-id'),
  });
}

function expectChallenge(res: { status: number; body: any; headers: Headers }) {
  expectError(res, 401, 'unauthenticated');
  expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
}

let admin: TestUser;
let url: string;
const OPS = basic('ops', 'pa:ss wörd');

beforeAll(async () => {
  admin = await newUser();
  // Test settings with a password that has a colon and a non-ASCII letter, and one platform admin (listed
  // in upper case: ids are typed by people).
  ({ url } = await boardServer({
    ...getSettings(),
    bullBoard: { username: 'ops', password: 'pa:ss wörd' },
    adminUserIds: [admin.id.toUpperCase()],
  }));
});
afterAll(async () => {
  for (const close of servers) await close();
  await stack.close();
});

describe('Bull Board authentication', () => {
  it('401s without credentials, with the basic challenge and the error shape', async () => {
    for (const path of [
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/queues/static/favicon-32x32.png',
    ]) {
      expectChallenge(await client(url).get(path));
    }
  });

  it('401s a wrong password, a wrong user name, malformed basic credentials and an unknown scheme', async () => {
    const c = client(url);
    for (const headers of [
      basic('ops', 'wrong'),
      basic('ops', 'pa:ss'),
      basic('admin', 'pa:ss wörd'),
      basic('', ''),
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: 'Basic' },
      { authorization: 'Digest username="ops"' },
    ]) {
      expectChallenge(await c.get('/admin/queues/api/queues', { headers }));
    }
  });

  it('401s an invalid or expired JWT with the basic challenge, never echoing the token', async () => {
    expectChallenge(await client(url, 'not-a-jwt').get('/admin/queues/api/queues'));
    const expired = await newUser({ ttlSeconds: -120 });
    const res = await client(url, expired.token).get('/admin/queues/api/queues');
    expectChallenge(res);
    expect(JSON.stringify(res.body)).not.toContain(expired.token);
  });

  it('403s a valid JWT of a user who is not a platform admin', async () => {
    const someone = await newUser();
    expectError(await client(url, someone.token).get('/admin/queues'), 403, 'permission_denied');
    expectError(await client(url, someone.token).get('/admin/queues/api/queues'), 403, 'permission_denied');
  });
});

describe('Bull Board with the right credentials', () => {
  it('serves the page and the static assets it refers to over basic auth', async () => {
    const c = client(url);
    const page = await c.get('/admin/queues', { headers: OPS });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.body).toContain('<base href="/admin/queues/"');
    // Its own CSP instead of the API's default-src 'none', and not cached (it shows job payloads).
    expect(page.headers.get('content-security-policy')).toBe(BULL_BOARD_CSP);
    expect(page.headers.get('cache-control')).toBe('no-store');
    // The browser resends the basic credentials for every asset of the page.
    const assets = [...String(page.body).matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(1);
    // Everything else the page loads must be something its CSP allows (a board upgrade could add more).
    const offsite = [...String(page.body).matchAll(/(?:src|href)="(https?:[^"]+)"/g)].map(
      (m) => new URL(m[1]!).origin,
    );
    expect(new Set(offsite)).toEqual(new Set(['https://fonts.googleapis.com']));
    for (const asset of assets) {
      expect((await c.get(`/admin/queues/${asset}`, { headers: OPS })).status).toBe(200);
      expectChallenge(await c.get(`/admin/queues/${asset}`));
    }
    // Client-side routes of the board render the same page.
    expect((await c.get('/admin/queues/queue/system', { headers: OPS })).status).toBe(200);
  });

  it('lists every catalog queue and counts a job published through the bus', async () => {
    const c = client(url);
    const before = await c.get('/admin/queues/api/queues', { headers: OPS });
    expect(before.status).toBe(200);
    expect(before.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(QUEUE_NAMES).toEqual(expect.arrayContaining(['workspace', 'agent', 'cost', 'system']));

    const env = await stack.bus.publish('test.event', { message: 'seen on the board' });
    const after = await c.get('/admin/queues/api/queues?activeQueue=system&status=latest', { headers: OPS });
    const system = after.body.queues.find((q: { name: string }) => q.name === 'system');
    expect(system.counts.waiting).toBe(1);
    expect(system.jobs.map((j: { id: string }) => j.id)).toContain(env.event_id);
  });

  it('lets a platform admin in with a JWT', async () => {
    const c = client(url, admin.token);
    const page = await c.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await c.get('/admin/queues/api/queues');
    expect(api.status).toBe(200);
    expect(api.body.queues).toHaveLength(QUEUE_NAMES.length);
  });

  it('allows board actions from its own page and refuses them from another site', async () => {
    const c = client(url);
    const pause = await c.call('PUT', '/admin/queues/api/queues/cost/pause', {
      headers: { ...OPS, 'sec-fetch-site': 'same-origin' },
    });
    expect(pause.status).toBe(200);
    expect(await stack.bus.queue('cost').isPaused()).toBe(true);

    const forged = await c.call('PUT', '/admin/queues/api/queues/cost/resume', {
      headers: { ...OPS, 'sec-fetch-site': 'cross-site' },
    });
    expectError(forged, 403, 'permission_denied');
    expect(await stack.bus.queue('cost').isPaused()).toBe(true);

    expect((await c.call('PUT', '/admin/queues/api/queues/cost/resume', { headers: OPS })).status).toBe(200);
    expect(await stack.bus.queue('cost').isPaused()).toBe(false);
  });

  it("leaves unknown paths under the board to the app's 404", async () => {
    expectError(await client(url).get('/admin/queues/nothing-here', { headers: OPS }), 404, 'not_found');
  });
});

describe('Bull Board in production', () => {
  // Production refuses the development JWT secret, so the settings are parsed with one of their own; the
  // test then verifies tokens with the secret its factories sign with (the refusal itself is unit-tested).
  const production = (extra: Record<string, string> = {}) => ({
    ...parseSettings({
      ENVIRONMENT: 'production',
      DATABASE_URL: 'postgres://app@127.0.0.1:5432/unused?sslmode=require',
      ANTHROPIC_API_KEY: 'sk-ant-not-called',
      REDIS_URL: 'rediss://127.0.0.1:6380',
      SUPABASE_JWT_SECRET: 'a-production-jwt-secret-of-32-characters-at-least',
      SECRET_KEY: 'a-production-secret-key-of-32-characters-at-least',
      GOOGLE_CLOUD_PROJECT: 'raptorflow-test',
      SUPABASE_URL: 'https://unused.supabase.co',
      SUPABASE_ANON_KEY: 'unused-anon-key',
      ...extra,
    }),
    supabaseJwtSecret: getSettings().supabaseJwtSecret,
    // Production needs a Supabase project (the console signs in there); these tokens are the factories'
    // HS256 ones, without its issuer, and no JWKS is fetched.
    supabaseUrl: undefined,
  });

  it('is not mounted without basic credentials or admin ids', async () => {
    const settings = production();
    expect(settings.bullBoard).toEqual({ username: undefined, password: undefined });
    const { url: prodUrl, mount } = await boardServer(settings);
    expect(mount).toEqual({ mounted: false, path: '/admin/queues' });
    const c = client(prodUrl);
    expectError(await c.get('/admin/queues'), 404, 'not_found');
    expectError(
      await c.get('/admin/queues/api/queues', { headers: basic('admin', 'raptorflow') }),
      404,
      'not_found',
    );
  });

  it('with only ADMIN_USER_IDS: admits the admin JWT and refuses every basic credential', async () => {
    const settings = production({ ADMIN_USER_IDS: admin.id });
    const { url: prodUrl, mount } = await boardServer(settings);
    expect(mount.mounted).toBe(true);
    expect((await client(prodUrl, admin.token).get('/admin/queues/api/queues')).status).toBe(200);
    expectChallenge(await client(prodUrl).get('/admin/queues', { headers: basic('admin', 'raptorflow') }));
    expectChallenge(await client(prodUrl).get('/admin/queues', { headers: basic('', '') }));
  });
});
