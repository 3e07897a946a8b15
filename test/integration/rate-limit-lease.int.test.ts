import { randomBytes, randomUUID } from 'node:crypto';
import { closeRedisConnections, createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { RateLimiter, rateLimitKey } from '../../services/gateway/src/edge/rate-limiter.service';

// Leases: a replica asks Redis for a small batch of requests and spends it locally.
const PREFIX = `rllease-${randomBytes(4).toString('hex')}`;
const T0 = Date.UTC(2030, 0, 1);
let clock = T0;
const now = () => clock;
let redis: Redis;

beforeAll(async () => {
  redis = createRedis('client');
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
});
afterAll(() => closeRedisConnections());

const counted = async (id: string) =>
  Number(await redis.get(rateLimitKey(PREFIX, 'user', id, Math.floor(clock / 60_000))));

it('takes one Redis lease per batch of requests, with exact remaining counts', async () => {
  const limiter = new RateLimiter({ redis, prefix: PREFIX, now });
  const id = randomUUID();
  const first = await limiter.consume('user', id, 2_000);
  expect(first).toMatchObject({ allowed: true, remaining: 1_999 });
  expect(await counted(id)).toBe(100); // the lease, not the single request, is counted in Redis
  for (let i = 2; i <= 100; i++)
    expect((await limiter.consume('user', id, 2_000))!.remaining).toBe(2_000 - i);
  expect(await counted(id)).toBe(100);
  await limiter.consume('user', id, 2_000);
  expect(await counted(id)).toBe(200);
});

it('shares one lease request among concurrent requests of a subject', async () => {
  const limiter = new RateLimiter({ redis, prefix: PREFIX, now });
  const id = randomUUID();
  const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('user', id, 2_000)));
  expect(decisions.every((d) => d?.allowed)).toBe(true);
  expect(await counted(id)).toBe(100);
  expect(new Set(decisions.map((d) => d!.remaining)).size).toBe(50);
});

it('never admits more than the limit across replicas, leases shrinking near it', async () => {
  const replicas = [0, 1, 2].map(() => new RateLimiter({ redis, prefix: PREFIX, now }));
  const id = randomUUID();
  let allowed = 0;
  for (let round = 0; round < 120; round++) {
    const results = await Promise.all(replicas.map((r) => r.consume('user', id, 200)));
    allowed += results.filter((d) => d?.allowed).length;
  }
  expect(allowed).toBeLessThanOrEqual(200);
  // Unused leases may hold back a few requests, never more than each replica's last small lease.
  expect(allowed).toBeGreaterThanOrEqual(200 - 3 * 2);
  expect(await counted(id)).toBe(200);
  // A new window starts a new count (the previous one fades in).
  clock += 120_000;
  expect((await replicas[0]!.consume('user', id, 200))!.allowed).toBe(true);
});
