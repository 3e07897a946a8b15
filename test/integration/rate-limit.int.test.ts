import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import type { Express, RequestHandler } from 'express';
import { Redis as IORedis } from 'ioredis';
import { closeRedisConnections, createRedis, redisOptionsFor } from '@raptorflow/core/redis/redis.factory';
import { correlationMiddleware } from '../../services/gateway/src/http/correlation.middleware';
import { createLogger } from '@raptorflow/core/logging/logger';
import { errorMiddleware, notFoundMiddleware } from '../../services/gateway/src/http/error.middleware';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import {
  rateLimitPerUser,
  rateLimitPerWorkspace,
} from '../../services/gateway/src/edge/rate-limit.middleware';
import { RateLimiter } from '../../services/gateway/src/edge/rate-limiter.service';
import type { RateLimiterOptions } from '../../services/gateway/src/edge/rate-limiter.service';
import { client, listen } from '../support/http';

// Real Redis, a key prefix of this file's own (parallel runs never share counters) and an injected clock, so
// window arithmetic is exact and no test waits for a minute to pass or straddles a real window boundary.
const PREFIX = `rltest-${randomBytes(4).toString('hex')}`;
const WINDOW = 60_000;
const T0 = Date.UTC(2030, 0, 1); // a window boundary
let clock = T0;
const now = () => clock;

const redis = createRedis('client');
const closers: Array<() => Promise<void>> = [];

/** Stands in for requireAuth + workspace resolution: identities come from test headers. */
const fakeIdentity: RequestHandler = (req, _res, next) => {
  const userId = req.get('x-test-user');
  if (userId) req.auth = { userId, claims: {} };
  next();
};
const fakeWorkspaceGuard: RequestHandler = (req, _res, next) => {
  const id = req.get('x-test-workspace');
  if (id) req.workspace = { id, role: 'member' };
  next();
};

function buildApp(limiter: RateLimiter, limits: { user?: number; workspace?: number }): Express {
  const app = express();
  app.use(correlationMiddleware());
  app.use(fakeIdentity);
  if (limits.user) app.use(rateLimitPerUser(limiter, limits.user));
  const route: RequestHandler[] = [fakeWorkspaceGuard];
  if (limits.workspace) route.push(rateLimitPerWorkspace(limiter, limits.workspace));
  app.get('/ok', ...route, (_req, res) => {
    res.json({ ok: true });
  });
  app.use(notFoundMiddleware());
  app.use(errorMiddleware(createLogger('rate-limit-test')));
  return app;
}

/** A 'client' connection refuses commands until it is ready, which the limiter would take as Redis down. */
async function connected(r: Redis = createRedis('client')): Promise<Redis> {
  if (r.status !== 'ready') await new Promise((resolve) => r.once('ready', resolve));
  return r;
}

async function serve(
  limits: { user?: number; workspace?: number },
  opts: Partial<RateLimiterOptions> = {},
): Promise<ReturnType<typeof client>> {
  const limiter = new RateLimiter({ redis, prefix: PREFIX, now, ...opts });
  const { url, close } = await listen(buildApp(limiter, limits));
  closers.push(close);
  return client(url);
}

function as(user: string, workspace?: string) {
  return { headers: { 'x-test-user': user, ...(workspace ? { 'x-test-workspace': workspace } : {}) } };
}

const header = (res: { headers: Headers }, name: string) => res.headers.get(name);

async function keysOfThisFile(r: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

beforeAll(async () => {
  await connected(redis);
});
beforeEach(() => {
  clock = T0 + 1_000;
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  const keys = await keysOfThisFile(redis);
  if (keys.length) await redis.del(...keys);
  await closeRedisConnections();
});

describe('rate limits on real Redis', () => {
  it('answers 200 under the limit with decreasing RateLimit-Remaining and the IETF headers', async () => {
    const api = await serve({ user: 5 });
    const user = randomUUID();
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.get('/ok', as(user));
      expect(res.status).toBe(200);
      expect(header(res, 'ratelimit-limit')).toBe('5');
      expect(header(res, 'ratelimit-policy')).toBe('5;w=60');
      expect(header(res, 'ratelimit-reset')).toBe('59'); // one second into the window
      remaining.push(header(res, 'ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
  });

  it('refuses the (limit+1)th request of a window with 429 rate_limited, Retry-After and the error shape', async () => {
    const api = await serve({ user: 5 });
    const user = randomUUID();
    for (let i = 0; i < 5; i++) expect((await api.get('/ok', as(user))).status).toBe(200);
    const res = await api.get('/ok', as(user));
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      error: { code: 'rate_limited', message: expect.any(String) },
      correlation_id: header(res, 'x-correlation-id'),
    });
    expect(typeof res.body.correlation_id).toBe('string');
    // 59 s until the window ends, then 12 s until its 5 requests have faded to 4 (5 × 48/60).
    expect(Number(header(res, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(header(res, 'retry-after')).toBe('71');
    expect(header(res, 'ratelimit-remaining')).toBe('0');
    expect(header(res, 'ratelimit-reset')).toBe('71');
    expect(header(res, 'ratelimit-policy')).toBe('5;w=60');
  });

  it('limits two users independently', async () => {
    const api = await serve({ user: 2 });
    const [alice, bob] = [randomUUID(), randomUUID()];
    await api.get('/ok', as(alice));
    await api.get('/ok', as(alice));
    expect((await api.get('/ok', as(alice))).status).toBe(429);
    const res = await api.get('/ok', as(bob));
    expect(res.status).toBe(200);
    expect(header(res, 'ratelimit-remaining')).toBe('1');
  });

  it('shares one count between two gateway replicas (two limiters, two Redis connections)', async () => {
    const replicaA = await serve({ user: 3 });
    const replicaB = await serve({ user: 3 }, { redis: await connected() });
    const user = randomUUID();
    const seen = [];
    for (const api of [replicaA, replicaB, replicaA]) {
      const res = await api.get('/ok', as(user));
      seen.push([res.status, header(res, 'ratelimit-remaining')]);
    }
    expect(seen).toEqual([
      [200, '2'],
      [200, '1'],
      [200, '0'],
    ]);
    expect((await replicaB.get('/ok', as(user))).status).toBe(429);
  });

  it('allows exactly 20 of 50 concurrent requests against a limit of 20 (atomic across replicas)', async () => {
    const replicas = [await serve({ user: 20 }), await serve({ user: 20 }, { redis: await connected() })];
    const user = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => replicas[i % 2]!.get('/ok', as(user))),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(20);
    expect(results.filter((r) => r.status === 429)).toHaveLength(30);
    // Every allowed request saw a distinct count: no two read-then-increment races.
    const remaining = ok.map((r) => Number(header(r, 'ratelimit-remaining'))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('rolls the window over: the previous window fades linearly, Retry-After is exact', async () => {
    const api = await serve({ user: 10 });
    const user = randomUUID();
    clock = T0;
    for (let i = 0; i < 10; i++) expect((await api.get('/ok', as(user))).status).toBe(200);
    const refused = await api.get('/ok', as(user));
    expect(refused.status).toBe(429);
    // 60 s to the end of the window, then 6 s until 10 × 54/60 = 9 leaves room for one.
    expect(header(refused, 'retry-after')).toBe('66');

    clock = T0 + 65_900;
    expect((await api.get('/ok', as(user))).status).toBe(429);
    clock = T0 + 66_000;
    expect((await api.get('/ok', as(user))).status).toBe(200);
    expect((await api.get('/ok', as(user))).status).toBe(429);

    // Once a whole window has passed without requests, nothing is left: the full limit again.
    clock = T0 + 3 * WINDOW;
    const fresh = await api.get('/ok', as(user));
    expect(fresh.status).toBe(200);
    expect(header(fresh, 'ratelimit-remaining')).toBe('9');
  });

  it('weights the previous window by the share of the current one still ahead', async () => {
    const api = await serve({ user: 10 });
    const user = randomUUID();
    clock = T0;
    for (let i = 0; i < 10; i++) await api.get('/ok', as(user));
    clock = T0 + WINDOW + WINDOW / 2; // half the previous window's 10 still counts
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.get('/ok', as(user));
      expect(res.status).toBe(200);
      remaining.push(header(res, 'ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const refused = await api.get('/ok', as(user));
    expect(refused.status).toBe(429);
    expect(header(refused, 'retry-after')).toBe('6'); // 10 × 24/60 + 5 = 9 leaves room for one
  });

  it('counts a workspace across its members as a route-level middleware after the guard', async () => {
    const api = await serve({ user: 100, workspace: 3 });
    const [alice, bob, workspace] = [randomUUID(), randomUUID(), randomUUID()];
    await api.get('/ok', as(alice, workspace));
    await api.get('/ok', as(alice, workspace));
    expect((await api.get('/ok', as(bob, workspace))).status).toBe(200);
    const res = await api.get('/ok', as(bob, workspace));
    expect(res.status).toBe(429);
    expect(header(res, 'ratelimit-limit')).toBe('3'); // the workspace refused, not bob's user limit
    expect(header(res, 'ratelimit-remaining')).toBe('0');
    // Without a workspace the route is limited per user only.
    expect((await api.get('/ok', as(bob))).status).toBe(200);
  });

  it('reports the most restrictive of the user and workspace limits, whichever ran last', async () => {
    const tightWorkspace = await serve({ user: 5, workspace: 3 });
    let res = await tightWorkspace.get('/ok', as(randomUUID(), randomUUID()));
    expect([header(res, 'ratelimit-limit'), header(res, 'ratelimit-remaining')]).toEqual(['3', '2']);
    expect(header(res, 'ratelimit-policy')).toBe('3;w=60');

    const tightUser = await serve({ user: 2, workspace: 10 });
    res = await tightUser.get('/ok', as(randomUUID(), randomUUID()));
    expect([header(res, 'ratelimit-limit'), header(res, 'ratelimit-remaining')]).toEqual(['2', '1']);
    expect(header(res, 'ratelimit-policy')).toBe('2;w=60');
  });

  it('namespaces keys by subject, never stores raw credentials and lets every key expire', async () => {
    const limiter = new RateLimiter({ redis, prefix: PREFIX, now });
    const tokenLike = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl}{';
    await limiter.consume('user', tokenLike, 5);
    await serve({ user: 5, workspace: 5 }).then((api) => api.get('/ok', as(randomUUID(), randomUUID())));
    const keys = await keysOfThisFile(redis);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) {
      expect(key).toMatch(
        new RegExp(`^${PREFIX}:\\{(user|workspace):([0-9a-f-]{36}|h\\.[0-9a-f]{32})\\}:\\d+$`),
      );
      expect(key).not.toContain('eyJ');
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * WINDOW + 1_000);
    }
  });

  it('fails open when Redis is unreachable: requests pass without headers, one warning per 10 s', async () => {
    const logger = { warn: jest.fn() };
    // The gateway's own 'client' options. Only disconnectTimeout differs: ioredis arms a 2 s timer when a
    // client that is between reconnect attempts is closed, which would hold this jest worker open.
    const deadUrl = 'redis://127.0.0.1:1';
    const dead = new IORedis(deadUrl, { ...redisOptionsFor('client', deadUrl), disconnectTimeout: 10 });
    dead.on('error', () => undefined);
    closers.push(async () => dead.disconnect());
    const api = await serve({ user: 1, workspace: 1 }, { redis: dead, logger });
    const user = randomUUID();
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await api.get('/ok', as(user, randomUUID()));
      expect(res.status).toBe(200);
      expect(header(res, 'ratelimit-limit')).toBeNull();
      expect(header(res, 'ratelimit-remaining')).toBeNull();
      expect(header(res, 'retry-after')).toBeNull();
    }
    expect(Date.now() - started).toBeLessThan(2_000); // fails fast, not after a timeout per request
    expect(logger.warn).toHaveBeenCalledTimes(1);
    clock += 10_000;
    await api.get('/ok', as(user));
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn.mock.calls[1]![0]).toMatchObject({ suppressed: 9 });
  });
});
