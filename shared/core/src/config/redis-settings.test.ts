import { ConfigError, parseSettings } from './settings';
import { hashTagOf } from './redis-settings';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('parseSettings accepted the environment');
}

/** A production environment that starts on a TLS cluster; each refusal test changes one thing. */
function production(): Record<string, string | undefined> {
  return {
    ENVIRONMENT: 'production',
    DATABASE_URL: 'postgres://app:pw@db.internal:5432/raptorflow?sslmode=require',
    REDIS_CLUSTER_NODES: 'redis-1.internal:6379,redis-2.internal:6379',
    REDIS_CLUSTER_TLS: 'true',
    REDIS_PASSWORD: 'a-cluster-password',
    SUPABASE_JWT_SECRET: 'j'.repeat(40),
    SECRET_KEY: 'x'.repeat(48),
    GOOGLE_CLOUD_PROJECT: 'raptorflow-prod',
    ANTHROPIC_API_KEY: 'sk-ant-production-key',
    SUPABASE_URL: 'https://proj.supabase.co',
    SUPABASE_ANON_KEY: 'the-projects-public-anon-key',
  };
}

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
    const prod = parseSettings(production());
    expect(prod.redisCluster?.nodes).toHaveLength(2);
    // A plain redis:// REDIS_URL left over from single-node days is ignored, not refused.
    expect(parseSettings({ ...production(), REDIS_URL: 'redis://old:6379' }).redisCluster).toBeDefined();
  });

  it.each(['redis-1', 'redis-1:', ':6379', 'redis-1:6379,', 'redis-1:99999', 'redis://r:6379', 'a b:1'])(
    'refuses the seed list %p, naming the variable',
    (bad) => {
      const problems = problemsOf({ REDIS_CLUSTER_NODES: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^REDIS_CLUSTER_NODES: .*host:port/);
    },
  );

  it('refuses a QUEUE_PREFIX without a hash tag in cluster mode only, naming QUEUE_PREFIX', () => {
    for (const prefix of ['raptorflow', '{}raptorflow', 'raptor}flow{', 'rf{}']) {
      const problems = problemsOf({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: prefix });
      expect(problems).toEqual([
        expect.stringMatching(/^QUEUE_PREFIX must contain a Redis Cluster hash tag/),
      ]);
    }
    expect(parseSettings({ QUEUE_PREFIX: 'raptorflow' }).queuePrefix).toBe('raptorflow');
    expect(parseSettings({ REDIS_CLUSTER_NODES: 'r:6379', QUEUE_PREFIX: 'rf{eu}' }).queuePrefix).toBe(
      'rf{eu}',
    );
  });

  it('must use TLS in production, as REDIS_URL must be rediss://', () => {
    expect(problemsOf({ ...production(), REDIS_CLUSTER_TLS: undefined })).toEqual([
      'REDIS_CLUSTER_TLS must be true in production (TLS to every node of REDIS_CLUSTER_NODES)',
    ]);
    expect(problemsOf({ ...production(), REDIS_CLUSTER_TLS: 'false' })).toHaveLength(1);
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
