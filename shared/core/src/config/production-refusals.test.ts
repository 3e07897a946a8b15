import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, SHIPPED_SECRET_VALUES, parseSettings } from './settings';

/** A production environment that starts; each test breaks one rule and expects exactly that refusal. */
function good(): Record<string, string | undefined> {
  return {
    ENVIRONMENT: 'production',
    DATABASE_URL: 'postgres://app:pw@db.internal:5432/raptorflow?sslmode=require',
    REDIS_URL: 'rediss://cache.internal:6380',
    SUPABASE_JWT_SECRET: 'j'.repeat(40),
    SECRET_KEY: 'x'.repeat(48),
    GOOGLE_CLOUD_PROJECT: 'raptorflow-prod',
    ANTHROPIC_API_KEY: 'sk-ant-production-key',
    SUPABASE_URL: 'https://proj.supabase.co',
    SUPABASE_ANON_KEY: 'the-projects-public-anon-key',
  };
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('parseSettings accepted the environment');
}

describe('production refuses to start', () => {
  it('accepts the baseline (so each refusal below is caused by its one change)', () => {
    expect(parseSettings(good()).isProduction).toBe(true);
  });

  it('on the offline stand-in: LLM_PROVIDER=local', () => {
    expect(problemsOf({ ...good(), LLM_PROVIDER: 'local' })).toEqual([
      'LLM_PROVIDER=local (the offline stand-in) is not allowed in production',
    ]);
  });

  it('on a local: entry in a chain, naming the alias variable', () => {
    const problems = problemsOf({ ...good(), MODEL_FAST: 'local:gemini-3.8-flash' });
    expect(problems).toEqual([
      expect.stringMatching(/^MODEL_FAST: "local:gemini-3.8-flash" is the offline stand-in/),
    ]);
  });

  it('when Anthropic has no credentials but an alias uses it, naming ANTHROPIC_API_KEY and the aliases', () => {
    const { ANTHROPIC_API_KEY: _, ...env } = good();
    const [problem, ...rest] = problemsOf(env);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^Anthropic has no credentials but is used by MODEL_FAST \(claude-haiku-4-5\)/);
    expect(problem).toContain('MODEL_HEAVY (claude-sonnet-5)');
    expect(problem).toContain('set ANTHROPIC_API_KEY');
  });

  it('accepts Claude on Vertex AI instead of an Anthropic key', () => {
    const { ANTHROPIC_API_KEY: _, ...env } = good();
    expect(parseSettings({ ...env, ANTHROPIC_USE_VERTEX: 'true' }).llm.anthropic.vertex).toBeDefined();
  });

  it('when Gemini has no credentials, naming GOOGLE_CLOUD_PROJECT and GEMINI_API_KEY', () => {
    const { GOOGLE_CLOUD_PROJECT: _, ...env } = good();
    const problems = problemsOf(env);
    expect(problems).toContain('GOOGLE_CLOUD_PROJECT is required in production');
    expect(problems.find((p) => p.startsWith('Gemini has no credentials'))).toMatch(
      /MODEL_FAST \(gemini-3.8-flash\).*set GOOGLE_CLOUD_PROJECT .* or GEMINI_API_KEY/,
    );
  });

  it('on a database URL without TLS, and accepts PGSSLMODE instead of the URL parameter', () => {
    const plain = 'postgres://app:pw@db.internal:5432/raptorflow';
    expect(problemsOf({ ...good(), DATABASE_URL: plain })).toEqual([
      expect.stringMatching(/^DATABASE_URL must use TLS in production/),
    ]);
    expect(problemsOf({ ...good(), DATABASE_URL: `${plain}?sslmode=prefer` })).toHaveLength(1);
    expect(parseSettings({ ...good(), DATABASE_URL: plain, PGSSLMODE: 'verify-full' }).databaseUrl).toBe(
      plain,
    );
  });

  it('on a non-TLS Redis', () => {
    expect(problemsOf({ ...good(), REDIS_URL: 'redis://cache.internal:6379' })).toEqual([
      'REDIS_URL must use TLS (rediss://) in production',
    ]);
    // A Redis Cluster (REDIS_URL then ignored, even a plain one) needs REDIS_CLUSTER_TLS=true instead.
    const cluster = { ...good(), REDIS_URL: 'redis://old:6379', REDIS_CLUSTER_NODES: 'r-1:6379,r-2:6379' };
    expect(problemsOf(cluster)).toEqual([
      'REDIS_CLUSTER_TLS must be true in production (TLS to every node of REDIS_CLUSTER_NODES)',
    ]);
    expect(parseSettings({ ...cluster, REDIS_CLUSTER_TLS: 'true' }).redisCluster?.tls).toBe(true);
    expect(parseSettings({ ...cluster, REDIS_URL: undefined, REDIS_CLUSTER_TLS: 'true' }).isProduction).toBe(
      true,
    );
  });

  it('on http:// Supabase (its JWKS), webhook and provider URLs, each named', () => {
    expect(problemsOf({ ...good(), SUPABASE_URL: 'http://proj.supabase.co' })).toEqual([
      expect.stringMatching(/^SUPABASE_URL must be an https:\/\/ URL/),
    ]);
    expect(problemsOf({ ...good(), BUDGET_ALERT_WEBHOOK_URL: 'http://hooks.example.com/a' })).toEqual([
      'BUDGET_ALERT_WEBHOOK_URL must be an https:// URL in production',
    ]);
    expect(problemsOf({ ...good(), ANTHROPIC_BASE_URL: 'http://proxy.internal' })).toEqual([
      'ANTHROPIC_BASE_URL must be an https:// URL in production',
    ]);
  });

  it('without the Supabase project the console signs in with (URL and public anon key), each named', () => {
    const { SUPABASE_URL: _url, SUPABASE_ANON_KEY: _key, ...env } = good();
    expect(problemsOf(env)).toEqual([
      expect.stringMatching(/^SUPABASE_URL is required in production: the console signs users in/),
      expect.stringMatching(/^SUPABASE_ANON_KEY is required in production: the console signs users in/),
    ]);
    expect(problemsOf({ ...good(), SUPABASE_ANON_KEY: undefined })).toEqual([
      expect.stringMatching(/^SUPABASE_ANON_KEY is required in production/),
    ]);
    // A malformed URL is reported as such, not also as missing.
    expect(problemsOf({ ...good(), SUPABASE_URL: 'not a url' })).toEqual([
      expect.stringMatching(/^SUPABASE_URL: /),
    ]);
    expect(parseSettings(good()).supabaseAnonKey).toBe('the-projects-public-anon-key');
  });

  it('on a short METRICS_TOKEN', () => {
    expect(problemsOf({ ...good(), METRICS_TOKEN: 'short' })).toEqual([
      'METRICS_TOKEN must be at least 16 characters in production',
    ]);
  });

  it('on OTLP headers (an API key) sent over plain HTTP to another host; TLS or a loopback collector is fine', () => {
    const headers = { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k' };
    expect(
      problemsOf({ ...good(), ...headers, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel.example.com:4318' }),
    ).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS would be sent in clear text/)]);
    for (const endpoint of ['https://otel.example.com', 'http://127.0.0.1:4318', 'http://localhost:4318'])
      expect(
        parseSettings({ ...good(), ...headers, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing.endpoint,
      ).toBe(endpoint);
    // Without headers an in-cluster collector over http is fine: nothing secret travels.
    expect(
      parseSettings({ ...good(), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).tracing
        .endpoint,
    ).toBe('http://otel-collector:4318');
  });

  it('on the development secrets the repository ships (a token minted with them would be accepted)', () => {
    const dev = parseSettings({});
    expect(problemsOf({ ...good(), SUPABASE_JWT_SECRET: dev.supabaseJwtSecret })).toEqual([
      expect.stringMatching(/^SUPABASE_JWT_SECRET is a value shipped with this repository/),
    ]);
    expect(problemsOf({ ...good(), SECRET_KEY: dev.secretKey })).toEqual([
      expect.stringMatching(/^SECRET_KEY is a value shipped with this repository/),
    ]);
  });

  it('on the development Bull Board login, and on any Bull Board password under 16 characters', () => {
    const dev = parseSettings({}).bullBoard;
    const problems = problemsOf({
      ...good(),
      BULL_BOARD_USERNAME: dev.username,
      BULL_BOARD_PASSWORD: dev.password,
    });
    expect(problems).toContain('BULL_BOARD_PASSWORD must be at least 16 characters in production');
    expect(problems.some((p) => p.startsWith('BULL_BOARD_PASSWORD is a value shipped'))).toBe(true);
    expect(
      problemsOf({ ...good(), BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'fifteen-chars-x' }),
    ).toEqual(['BULL_BOARD_PASSWORD must be at least 16 characters in production']);
    expect(
      parseSettings({ ...good(), BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'sixteen-chars-xx' })
        .bullBoard,
    ).toEqual({ username: 'ops', password: 'sixteen-chars-xx' });
  });

  it('on every secret value in the files the repository ships (compose example values included)', () => {
    const root = path.resolve(__dirname, '../../../..');
    const secretKeys = /(SECRET|PASSWORD|TOKEN|_KEY)$/;
    const shipped = ['.env.example', '.ci/compose.env']
      .map((f) => fs.readFileSync(path.join(root, f), 'utf8'))
      .flatMap((text) => text.split('\n'))
      .map((line) => /^([A-Z_]+)=(.+)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => !!m && secretKeys.test(m[1]!));
    expect(shipped.length).toBeGreaterThan(3);
    for (const [, name, value] of shipped) {
      expect(SHIPPED_SECRET_VALUES.has(value!)).toBe(true);
      const variable = name === 'POSTGRES_PASSWORD' ? 'DATABASE_URL' : name!;
      const env =
        variable === 'DATABASE_URL'
          ? { ...good(), DATABASE_URL: `postgres://app:${value}@db:5432/x?sslmode=require` }
          : {
              ...good(),
              [variable]: value,
              ...(variable.startsWith('BULL') ? { BULL_BOARD_USERNAME: 'ops' } : {}),
            };
      expect(problemsOf(env).some((p) => p.startsWith(`${variable} is a value shipped`))).toBe(true);
    }
  });

  it('on TRUST_PROXY=true (any client could pick the address its limits are counted by)', () => {
    expect(problemsOf({ ...good(), TRUST_PROXY: 'true' })).toEqual([
      expect.stringMatching(/^TRUST_PROXY=true/),
    ]);
    expect(parseSettings({ ...good(), TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(parseSettings({ ...good(), TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toBe(
      '10.0.0.0/8, loopback',
    );
    expect(parseSettings(good()).trustProxy).toBe(false);
  });

  it('lists every problem in one error', () => {
    const problems = problemsOf({
      ...good(),
      LLM_PROVIDER: 'local',
      DATABASE_URL: 'postgres://db/x',
      SUPABASE_URL: 'http://x.supabase.co',
    });
    expect(problems).toHaveLength(3);
  });

  it('but development fills the stand-in and plain connections without complaint', () => {
    const s = parseSettings({
      LLM_PROVIDER: 'local',
      DATABASE_URL: 'postgres://db/x',
      REDIS_URL: 'redis://r',
    });
    expect(s.llm.mode).toBe('local');
  });
});
