import { ConfigError, DEFAULT_QUEUE_PREFIX, parseSettings } from './settings';

const STRONG_SECRET = 'x'.repeat(48);
const STRONG_JWT_SECRET = 'j'.repeat(40);

function validProductionEnv(): Record<string, string | undefined> {
  return {
    ENVIRONMENT: 'production',
    DATABASE_URL: 'postgres://app:pw@db.internal:5432/raptorflow?sslmode=verify-full',
    REDIS_URL: 'rediss://cache.internal:6380',
    SUPABASE_JWT_SECRET: STRONG_JWT_SECRET,
    SECRET_KEY: STRONG_SECRET,
    GOOGLE_CLOUD_PROJECT: 'raptorflow-prod',
    ANTHROPIC_API_KEY: 'sk-ant-production-key',
    SUPABASE_URL: 'https://proj.supabase.co',
    SUPABASE_ANON_KEY: 'the-projects-public-anon-key',
  };
}

/** Runs parseSettings expecting a ConfigError and returns it (fails the test if anything else happens). */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  let caught: unknown;
  try {
    parseSettings(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('parseSettings: development', () => {
  it('treats an empty environment as development and fills safe defaults', () => {
    const s = parseSettings({});
    expect(s.environment).toBe('development');
    expect(s.isProduction).toBe(false);
    expect(s.port).toBe(8000);
    expect(s.databaseUrl).toMatch(/^postgres:\/\//);
    expect(s.redisUrl).toMatch(/^redis:\/\//);
    expect(s.supabaseJwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(s.secretKey.length).toBeGreaterThanOrEqual(32);
    expect(s.jwtAudience).toBe('authenticated');
    expect(s.googleCloudLocation).toBe('us-central1');
    expect(s.monthlyWorkspaceBudgetUsd).toBe(50);
    expect(s.queuePrefix).toBe(DEFAULT_QUEUE_PREFIX);
    expect(s.queuePrefix).toBe('{raptorflow}');
    expect(s.googleCloudProject).toBeUndefined();
    expect(s.migrateOnStart).toBe(true);
  });

  it('reports exactly the names of the variables that fell back to a default', () => {
    const s = parseSettings({ ENVIRONMENT: 'development' });
    expect([...s.defaultsUsed].sort()).toEqual([
      'DATABASE_URL',
      'REDIS_URL',
      'SECRET_KEY',
      'SUPABASE_JWT_SECRET',
    ]);
  });

  it('does not report variables that were set', () => {
    const s = parseSettings({
      ENVIRONMENT: 'development',
      DATABASE_URL: 'postgresql://me@localhost/dev',
      SECRET_KEY: 'short-is-fine-in-dev',
    });
    expect(s.databaseUrl).toBe('postgresql://me@localhost/dev');
    expect(s.secretKey).toBe('short-is-fine-in-dev');
    expect(s.defaultsUsed).not.toContain('DATABASE_URL');
    expect(s.defaultsUsed).not.toContain('SECRET_KEY');
    expect([...s.defaultsUsed].sort()).toEqual(['REDIS_URL', 'SUPABASE_JWT_SECRET']);
  });

  it('treats blank strings as unset', () => {
    const s = parseSettings({ DATABASE_URL: '   ', PORT: '' });
    expect(s.defaultsUsed).toContain('DATABASE_URL');
    expect(s.port).toBe(8000);
  });

  it('accepts redis:// and short secrets outside production', () => {
    expect(() =>
      parseSettings({ ENVIRONMENT: 'development', REDIS_URL: 'redis://localhost:6379', SECRET_KEY: 'abc' }),
    ).not.toThrow();
  });
});

describe('parseSettings: production', () => {
  it('with nothing set throws ONE ConfigError listing every missing variable', () => {
    const err = configErrorOf({ ENVIRONMENT: 'production' });
    const required = [
      'DATABASE_URL',
      'REDIS_URL',
      'SUPABASE_JWT_SECRET',
      'SECRET_KEY',
      'GOOGLE_CLOUD_PROJECT',
      'SUPABASE_URL',
      'SUPABASE_ANON_KEY',
    ];
    for (const name of required) {
      expect(err.problems.some((p) => p.includes(name))).toBe(true);
      // the single message carries every problem too, so start-up prints them all at once
      expect(err.message).toContain(name);
    }
    // …plus one line per LLM provider without credentials (production never falls back to the stand-in)
    expect(err.problems.filter((p) => /has no credentials/.test(p))).toHaveLength(2);
    expect(err.problems).toHaveLength(required.length + 2);
    expect(err.name).toBe('ConfigError');
  });

  it('lists both a non-TLS redis:// URL and a short SECRET_KEY', () => {
    const err = configErrorOf({
      ...validProductionEnv(),
      REDIS_URL: 'redis://cache.internal:6379',
      SECRET_KEY: 'too-short',
    });
    expect(err.problems).toHaveLength(2);
    expect(err.problems.some((p) => /REDIS_URL/.test(p) && /TLS|rediss/.test(p))).toBe(true);
    expect(err.problems.some((p) => /SECRET_KEY/.test(p) && /32/.test(p))).toBe(true);
  });

  it('combines missing and invalid variables in the same error', () => {
    const env = validProductionEnv();
    delete env.GOOGLE_CLOUD_PROJECT;
    env.REDIS_URL = 'redis://plain:6379';
    const err = configErrorOf(env);
    expect(err.problems.some((p) => p.includes('GOOGLE_CLOUD_PROJECT'))).toBe(true);
    expect(err.problems.some((p) => p.includes('REDIS_URL'))).toBe(true);
  });

  it('a malformed value does not hide the other production problems', () => {
    // SPEC §3: ONE message listing every problem, so an operator fixes them all in one go
    const err = configErrorOf({ ENVIRONMENT: 'production', PORT: 'abc', REDIS_URL: 'redis://cache:6379' });
    expect(err.problems.some((p) => p.startsWith('PORT'))).toBe(true);
    for (const name of ['DATABASE_URL', 'SUPABASE_JWT_SECRET', 'SECRET_KEY', 'GOOGLE_CLOUD_PROJECT'])
      expect(err.problems.some((p) => p.includes(name))).toBe(true);
    expect(err.problems.some((p) => /REDIS_URL/.test(p) && /TLS/.test(p))).toBe(true);
  });

  it('does not report a malformed variable twice (as invalid and as missing)', () => {
    const err = configErrorOf({ ...validProductionEnv(), DATABASE_URL: 'mysql://db/x' });
    expect(err.problems.filter((p) => p.includes('DATABASE_URL'))).toHaveLength(1);
    expect(err.problems).toHaveLength(1);
  });

  it('accepts a SECRET_KEY of exactly 32 characters and rejects 31', () => {
    expect(() => parseSettings({ ...validProductionEnv(), SECRET_KEY: 'k'.repeat(32) })).not.toThrow();
    const err = configErrorOf({ ...validProductionEnv(), SECRET_KEY: 'k'.repeat(31) });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('SECRET_KEY');
  });

  it('parses a valid production environment without any defaults', () => {
    const s = parseSettings(validProductionEnv());
    expect(s.environment).toBe('production');
    expect(s.isProduction).toBe(true);
    expect(s.databaseUrl).toBe('postgres://app:pw@db.internal:5432/raptorflow?sslmode=verify-full');
    expect(s.redisUrl).toBe('rediss://cache.internal:6380');
    expect(s.secretKey).toBe(STRONG_SECRET);
    expect(s.supabaseJwtSecret).toBe(STRONG_JWT_SECRET);
    expect(s.googleCloudProject).toBe('raptorflow-prod');
    expect(s.defaultsUsed).toEqual([]);
    expect(s.migrateOnStart).toBe(false);
    // no development Bull Board credentials leak into production
    expect(s.bullBoard.username).toBeUndefined();
    expect(s.bullBoard.password).toBeUndefined();
  });
});

describe('parseSettings: result', () => {
  it('is deeply frozen', () => {
    const s = parseSettings({ ADMIN_USER_IDS: 'a,b', CORS_ORIGINS: 'https://x.test' });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.concurrency)).toBe(true);
    expect(Object.isFrozen(s.workerPorts)).toBe(true);
    expect(Object.isFrozen(s.bullBoard)).toBe(true);
    expect(Object.isFrozen(s.adminUserIds)).toBe(true);
    expect(Object.isFrozen(s.corsOrigins)).toBe(true);
    expect(Object.isFrozen(s.defaultsUsed)).toBe(true);
    // modules are strict mode, so writes to frozen objects throw
    expect(() => {
      (s as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (s.concurrency as { seeder: number }).seeder = 99;
    }).toThrow(TypeError);
    expect(() => (s.adminUserIds as string[]).push('c')).toThrow(TypeError);
    expect(s.port).toBe(8000);
    expect(s.concurrency.seeder).toBe(8);
  });
});

describe('parseSettings: numbers', () => {
  it('reports PORT=abc', () => {
    const err = configErrorOf({ PORT: 'abc' });
    expect(err.problems.some((p) => p.startsWith('PORT'))).toBe(true);
  });

  it('reports every bad number at once', () => {
    const err = configErrorOf({ PORT: 'abc', SEEDER_CONCURRENCY: '0', MONTHLY_WORKSPACE_BUDGET_USD: '-5' });
    expect(err.problems.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(err.problems.some((p) => p.startsWith('SEEDER_CONCURRENCY'))).toBe(true);
    expect(err.problems.some((p) => p.startsWith('MONTHLY_WORKSPACE_BUDGET_USD'))).toBe(true);
  });

  it('rejects out-of-range and fractional ports', () => {
    expect(configErrorOf({ PORT: '70000' }).problems.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(configErrorOf({ PORT: '80.5' }).problems.some((p) => p.startsWith('PORT'))).toBe(true);
  });

  it('coerces valid numbers', () => {
    const s = parseSettings({
      PORT: '9001',
      AGENT_RUNNER_CONCURRENCY: '16',
      MONTHLY_WORKSPACE_BUDGET_USD: '12.5',
    });
    expect(s.port).toBe(9001);
    expect(s.concurrency.agentRunner).toBe(16);
    expect(s.monthlyWorkspaceBudgetUsd).toBe(12.5);
  });

  it('reports malformed URLs and enum values', () => {
    const err = configErrorOf({ DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', ENVIRONMENT: 'staging' });
    expect(err.problems.some((p) => p.startsWith('DATABASE_URL'))).toBe(true);
    expect(err.problems.some((p) => p.startsWith('REDIS_URL'))).toBe(true);
    expect(err.problems.some((p) => p.startsWith('ENVIRONMENT'))).toBe(true);
  });
});

describe('parseSettings: CSV lists', () => {
  it('splits ADMIN_USER_IDS and CORS_ORIGINS, trimming and dropping empties', () => {
    const s = parseSettings({
      ADMIN_USER_IDS: ' 11111111-1111-4111-8111-111111111111 , ,22222222-2222-4222-8222-222222222222,',
      CORS_ORIGINS: 'https://app.raptorflow.test,  http://localhost:3000',
    });
    expect(s.adminUserIds).toEqual([
      '11111111-1111-4111-8111-111111111111',
      '22222222-2222-4222-8222-222222222222',
    ]);
    expect(s.corsOrigins).toEqual(['https://app.raptorflow.test', 'http://localhost:3000']);
  });

  it('gives empty lists when unset or blank', () => {
    const s = parseSettings({ CORS_ORIGINS: '  ' });
    expect(s.adminUserIds).toEqual([]);
    expect(s.corsOrigins).toEqual([]);
  });
});

describe('parseSettings: LOG_FORMAT', () => {
  it('defaults to pretty in development', () => {
    expect(parseSettings({}).logFormat).toBe('pretty');
    expect(parseSettings({ ENVIRONMENT: 'development' }).logFormat).toBe('pretty');
  });

  it('defaults to json in test and production', () => {
    expect(parseSettings({ ENVIRONMENT: 'test' }).logFormat).toBe('json');
    expect(parseSettings(validProductionEnv()).logFormat).toBe('json');
  });

  it('honours an explicit value and rejects an unknown one', () => {
    expect(parseSettings({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(parseSettings({ ...validProductionEnv(), LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(configErrorOf({ LOG_FORMAT: 'xml' }).problems.some((p) => p.startsWith('LOG_FORMAT'))).toBe(true);
  });
});
