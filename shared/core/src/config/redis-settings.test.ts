import { parseSettings } from './settings';
import { hashTagOf } from './redis-settings';

/** The production refusal of a cluster without TLS is in production-refusals.test.ts with the other rules. */
const refusal = (env: Record<string, string>) => () => parseSettings(env);

describe('REDIS_CLUSTER_NODES', () => {
  it('is unset by default: a single Redis at REDIS_URL', () => {
    const s = parseSettings({ REDIS_URL: 'redis://cache:6379' });
    expect(s.redisCluster).toBeUndefined();
    expect(s.redisUrl).toBe('redis://cache:6379');
  });

  it('parses host:port seeds (names, IPv4, bracketed IPv6) with TLS and password', () => {
    const s = parseSettings({
      REDIS_CLUSTER_NODES: ' redis-1:7000, 10.0.0.2:7001,[::1]:7002 ',
      REDIS_CLUSTER_TLS: 'true',
      REDIS_PASSWORD: 'pw',
    });
    expect(s.redisCluster).toEqual({
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: true,
      password: 'pw',
    });
  });

  it('makes REDIS_URL ignored: neither required in production nor announced as a default', () => {
    const dev = parseSettings({ ENVIRONMENT: 'development', REDIS_CLUSTER_NODES: 'r:6379' });
    expect(dev.defaultsUsed).not.toContain('REDIS_URL');
    expect(dev.redisCluster?.tls).toBe(false);
  });

  it.each(['redis-1', 'redis-1:', ':6379', 'redis-1:6379,', 'redis-1:99999', 'redis://r:6379', 'a b:1'])(
    'refuses the seed list %p, naming the variable',
    (bad) => {
      expect(refusal({ REDIS_CLUSTER_NODES: bad })).toThrow(/^ {2}- REDIS_CLUSTER_NODES: .*host:port/m);
    },
  );

  it('refuses a QUEUE_PREFIX without a hash tag in cluster mode only, naming QUEUE_PREFIX', () => {
    for (const prefix of ['raptorflow', '{}raptorflow', 'raptor}flow{', 'rf{}']) {
      expect(refusal({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: prefix })).toThrow(
        /^ {2}- QUEUE_PREFIX must contain a Redis Cluster hash tag/m,
      );
    }
    expect(parseSettings({ QUEUE_PREFIX: 'raptorflow' }).queuePrefix).toBe('raptorflow');
    expect(parseSettings({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: 'rf{eu}' }).queuePrefix).toBe(
      'rf{eu}',
    );
  });
});

describe('hashTagOf', () => {
  it('follows Redis: the first {…} with something inside', () => {
    expect(hashTagOf('{raptorflow}:agent:id')).toBe('raptorflow');
    expect(hashTagOf('rl:x:{user:1}:5')).toBe('user:1');
    expect(hashTagOf('{}{a}')).toBeUndefined();
    expect(hashTagOf('a{b')).toBeUndefined();
    expect(hashTagOf('plain')).toBeUndefined();
  });
});
