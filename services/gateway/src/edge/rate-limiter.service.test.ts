import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { RateLimiter, rateLimitKey } from './rate-limiter.service';

describe('rateLimitKey', () => {
  it('keeps plain ids readable and hash-tags the subject so both windows share a Cluster slot', () => {
    const id = '2f1d7a0e-1111-4222-8333-444455556666';
    expect(rateLimitKey('rl', 'user', id, 42)).toBe(`rl:{user:${id}}:42`);
  });

  it('hashes ids that could carry a credential or break the hash tag', () => {
    const key = rateLimitKey('rl', 'user', 'Bearer eyJhbGciOi.secret}{', 42);
    expect(key).toMatch(/^rl:\{user:h\.[0-9a-f]{32}\}:42$/);
    expect(key).not.toContain('eyJ');
    expect(rateLimitKey('rl', 'user', 'Bearer eyJhbGciOi.secret}{', 42)).toBe(key);
  });
});

describe('RateLimiter when Redis hangs', () => {
  it('gives up after timeoutMs and fails open (null) instead of holding the request', async () => {
    // A connected Redis that never replies cannot be produced with the shared client factory (it refuses
    // commands until the ready check answers), so this one path uses a stand-in.
    const hung = { evalsha: () => new Promise(() => undefined) } as unknown as Redis;
    const logger = { warn: jest.fn() };
    const limiter = new RateLimiter({ redis: hung, timeoutMs: 20, logger });
    await expect(limiter.consume('user', 'u1', 5)).resolves.toBeNull();
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});
