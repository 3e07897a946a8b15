import { z } from 'zod';

/**
 * The one place that reads the environment. Everything else asks getSettings(), so a typo in a variable
 * name is a start-up error rather than a silent `undefined` deep inside a request.
 */

const DEV_JWT_SECRET = 'raptorflow-development-jwt-secret-change-me-0000';
const DEV_SECRET_KEY = 'raptorflow-development-secret-key-change-me-00000';
export const DEFAULT_QUEUE_PREFIX = '{raptorflow}';
const MIN_SECRET_KEY_LENGTH = 32;
const MIN_METRICS_TOKEN_LENGTH = 16;
const MIN_BULL_BOARD_PASSWORD_LENGTH = 16;
const DEV_BULL_BOARD_PASSWORD = 'raptorflow';

/**
 * Every secret value this repository ships (development defaults, and the example values used to validate
 * docker-compose.yml in CI): all public, so production refuses each of them wherever a secret goes. A test
 * reads the shipped files and checks that this list covers them.
 */
export const SHIPPED_SECRET_VALUES: ReadonlySet<string> = new Set([
  DEV_JWT_SECRET,
  DEV_SECRET_KEY,
  DEV_BULL_BOARD_PASSWORD,
  'postgres',
  'example-postgres-password',
  'example-jwt-secret-of-at-least-32-characters',
  'example-secret-key-of-at-least-32-characters',
  'example-bull-board-password',
  'example-metrics-token',
]);
const TLS_SSLMODES = ['require', 'verify-ca', 'verify-full'];

import { booleanish, csv, intFrom, isTrue, optionalString } from './env-parsers';
import { buildLlmSettings, llmEnvShape, llmProductionProblems } from './llm-settings';
import type { LlmSettings } from './llm-settings';

export type { LlmProviderName, LlmSettings, ModelAliasName, ModelRoute } from './llm-settings';

const envSchema = z.object({
  ENVIRONMENT: optionalString.pipe(z.enum(['development', 'test', 'production']).optional()),
  PORT: intFrom(8000),
  LOG_LEVEL: optionalString.pipe(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ),
  LOG_FORMAT: optionalString.pipe(z.enum(['json', 'pretty']).optional()),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  PGSSLMODE: optionalString,
  QUEUE_PREFIX: optionalString,
  METRICS_TOKEN: optionalString,
  SUPABASE_URL: optionalString.pipe(z.url().optional()),
  SUPABASE_SERVICE_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  JWT_AUDIENCE: optionalString,
  GOOGLE_CLOUD_PROJECT: optionalString,
  GOOGLE_CLOUD_LOCATION: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  SECRET_KEY: optionalString,
  MAX_WORKSPACES_PER_USER: intFrom(10, 1, 100_000),
  MONTHLY_WORKSPACE_BUDGET_USD: optionalString.pipe(
    z.coerce.number<string>().min(0).max(1_000_000).optional(),
  ),
  AGENT_RUNNER_CONCURRENCY: intFrom(4, 1, 256),
  SEEDER_CONCURRENCY: intFrom(8, 1, 256),
  COST_LEDGER_CONCURRENCY: intFrom(8, 1, 256),
  AGENT_RUNNER_PORT: intFrom(8101),
  SEEDER_PORT: intFrom(8102),
  COST_LEDGER_PORT: intFrom(8103),
  BULL_BOARD_USERNAME: optionalString,
  BULL_BOARD_PASSWORD: optionalString,
  ADMIN_USER_IDS: csv,
  CORS_ORIGINS: csv,
  MIGRATE_ON_START: booleanish,
  SHUTDOWN_GRACE_MS: intFrom(25_000, 0, 600_000),
  WORKER_LOCK_DURATION_MS: intFrom(30_000, 1_000, 3_600_000),
  WORKER_STALLED_INTERVAL_MS: intFrom(30_000, 1_000, 3_600_000),
  WORKER_MAX_STALLED_COUNT: intFrom(1, 0, 100),
  AGENT_RUNNER_RATE_LIMIT_PER_SECOND: intFrom(0, 0, 100_000),
  SEEDER_RATE_LIMIT_PER_SECOND: intFrom(0, 0, 100_000),
  COST_LEDGER_RATE_LIMIT_PER_SECOND: intFrom(0, 0, 100_000),
  OUTBOX_RELAY_INTERVAL_MS: intFrom(1_000, 50, 600_000),
  OUTBOX_RETENTION_HOURS: intFrom(168, 1, 100_000),
  RATE_LIMIT_USER_PER_MINUTE: intFrom(600, 1, 1_000_000),
  ADMIN_LOGIN_MAX_FAILURES: intFrom(10, 1, 10_000),
  ADMIN_LOGIN_WINDOW_MS: intFrom(300_000, 1_000, 86_400_000),
  RUN_STREAM_ACCESS_CHECK_MS: intFrom(30_000, 1_000, 3_600_000),
  TRUST_PROXY: optionalString.pipe(
    z
      .union([
        z.string().regex(/^\d{1,2}$/, 'a number of proxy hops'),
        z.enum(['true', 'false']),
        z
          .string()
          .regex(
            /^[\w.:/,\s-]+$/,
            'a number of hops, or comma-separated addresses/subnets or loopback, linklocal, uniquelocal',
          ),
      ])
      .optional(),
  ),
  RATE_LIMIT_WORKSPACE_PER_MINUTE: intFrom(3_000, 1, 1_000_000),
  TOKEN_CACHE_MAX: intFrom(10_000, 0, 1_000_000),
  MEMBERSHIP_CACHE_TTL_MS: intFrom(30_000, 0, 3_600_000),
  MEMBERSHIP_CACHE_MAX: intFrom(50_000, 0, 10_000_000),
  ...llmEnvShape,
  AGENT_RUN_TIMEOUT_MS: intFrom(600_000, 1_000, 86_400_000),
  AGENT_RUN_LEASE_MS: intFrom(30_000, 1_000, 3_600_000),
  AGENT_WORKSPACE_CONCURRENCY: intFrom(3, 1, 1_000),
  AGENT_SEEDING_WAIT_MS: intFrom(60_000, 0, 3_600_000),
  AGENT_CHECKPOINT_RETENTION_HOURS: intFrom(168, 1, 100_000),
  AGENT_CHECKPOINT_POOL_MAX: intFrom(5, 1, 100),
  BUDGET_ALERT_WEBHOOK_URL: optionalString.pipe(z.url().optional()),
  BUDGET_ALERT_WEBHOOK_TIMEOUT_MS: intFrom(5_000, 100, 120_000),
  LEDGER_RECONCILE_INTERVAL_MS: intFrom(3_600_000, 0, 86_400_000),
});

/** Every variable the configuration reads (`.env.example` must list each one; a test checks it). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema.shape));

export type Environment = 'development' | 'test' | 'production';

export interface Settings {
  environment: Environment;
  isProduction: boolean;
  port: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  supabaseUrl: string | undefined;
  supabaseServiceKey: string | undefined;
  supabaseJwtSecret: string;
  jwtAudience: string;
  googleCloudProject: string | undefined;
  googleCloudLocation: string;
  anthropicApiKey: string | undefined;
  secretKey: string;
  monthlyWorkspaceBudgetUsd: number;
  /** Workspaces one user may own (each has its own budget): 409 on create past it. */
  maxWorkspacesPerUser: number;
  concurrency: { agentRunner: number; seeder: number; costLedger: number };
  workerPorts: { agentRunner: number; seeder: number; costLedger: number };
  bullBoard: { username: string | undefined; password: string | undefined };
  adminUserIds: readonly string[];
  corsOrigins: readonly string[];
  migrateOnStart: boolean;
  shutdownGraceMs: number;
  /** BullMQ lock and stalled-job detection: a job whose worker died is re-run after about stalledIntervalMs. */
  workerLocks: { lockDurationMs: number; stalledIntervalMs: number; maxStalledCount: number };
  /** Jobs per second per worker queue (BullMQ limiter, global across that queue's workers); 0 = unlimited. */
  workerRateLimits: { agentRunner: number; seeder: number; costLedger: number };
  outbox: { relayIntervalMs: number; retentionHours: number };
  /** Requests per minute, per user and per workspace (Redis-backed, shared by every gateway replica). */
  rateLimits: { userPerMinute: number; workspacePerMinute: number };
  /** Failed admin sign-ins allowed per client address within the window (Redis, shared by replicas). */
  adminLogin: { maxFailures: number; windowMs: number };
  /** How often an open run event stream re-checks its reader's membership (besides the invalidation bus). */
  runStreamAccessCheckMs: number;
  /**
   * Express `trust proxy`: which hops may set X-Forwarded-For, so that per-address limits see the client and
   * not the load balancer. false (default) = the TCP peer; a number = that many hops; else addresses/subnets.
   */
  trustProxy: boolean | number | string;
  /** Verified-token cache entries (0 disables it). */
  tokenCacheMax: number;
  membershipCache: { ttlMs: number; max: number };
  llm: LlmSettings;
  agentRuns: {
    /** A run is failed with `timeout` this long after it first started (resumes keep the same deadline). */
    timeoutMs: number;
    /** A runner's hold on a run; renewed every third of it. A run whose lease ran out is picked up again. */
    leaseMs: number;
    /** Runs running at once per workspace; further runs wait their turn in the queue. */
    workspaceConcurrency: number;
    /** A run asked for before its workspace's Lords were seeded waits this long for them, queued. */
    seedingWaitMs: number;
    checkpointRetentionHours: number;
    checkpointPoolMax: number;
  };
  ledger: {
    /** Budget alerts are POSTed here (signed with SECRET_KEY) when set. */
    alertWebhookUrl: string | undefined;
    alertWebhookTimeoutMs: number;
    /** How often the job scheduler runs reconciliation; 0 turns the schedule off. */
    reconcileIntervalMs: number;
  };
  /** Bearer token that opens `/metrics`; in production `/metrics` is served only with it. */
  metricsToken: string | undefined;
  /** Names of the variables that fell back to a development default (announced once at start-up). */
  defaultsUsed: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Pure: parses an environment-like object. Throws ConfigError listing every problem at once. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  let parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  // Variables that failed their own check; they are left out of the "required in production" checks below.
  const invalid = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')}: ${issue.message}`);
      invalid.add(String(issue.path[0]));
    }
    // Keep going without the bad variables so the one ConfigError also lists the production problems.
    parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([k]) => !invalid.has(k))));
    if (!parsed.success) throw new ConfigError(problems);
  }
  const e = parsed.data;
  const environment: Environment = e.ENVIRONMENT ?? 'development';
  const isProduction = environment === 'production';
  const defaultsUsed: string[] = [];

  function need<T>(name: string, value: T | undefined, devDefault: T): T {
    if (value !== undefined || invalid.has(name)) return value ?? devDefault;
    if (isProduction) {
      problems.push(`${name} is required in production`);
      return devDefault;
    }
    defaultsUsed.push(name);
    return devDefault;
  }

  const databaseUrl = need('DATABASE_URL', e.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/raptorflow');
  const redisUrl = need('REDIS_URL', e.REDIS_URL, 'redis://127.0.0.1:6379');
  const supabaseJwtSecret = need('SUPABASE_JWT_SECRET', e.SUPABASE_JWT_SECRET, DEV_JWT_SECRET);
  const secretKey = need('SECRET_KEY', e.SECRET_KEY, DEV_SECRET_KEY);
  const googleCloudProject = isProduction
    ? need('GOOGLE_CLOUD_PROJECT', e.GOOGLE_CLOUD_PROJECT, undefined)
    : e.GOOGLE_CLOUD_PROJECT;

  if (isProduction) {
    if (e.REDIS_URL?.startsWith('redis://'))
      problems.push('REDIS_URL must use TLS (rediss://) in production');
    if (e.SECRET_KEY !== undefined && e.SECRET_KEY.length < MIN_SECRET_KEY_LENGTH)
      problems.push(`SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters in production`);
    if (e.SUPABASE_JWT_SECRET !== undefined && e.SUPABASE_JWT_SECRET.length < MIN_SECRET_KEY_LENGTH)
      problems.push(`SUPABASE_JWT_SECRET must be at least ${MIN_SECRET_KEY_LENGTH} characters in production`);
    if (e.BUDGET_ENFORCEMENT !== undefined && !isTrue(e.BUDGET_ENFORCEMENT, true))
      problems.push('BUDGET_ENFORCEMENT cannot be turned off in production');
    if ((e.BULL_BOARD_USERNAME === undefined) !== (e.BULL_BOARD_PASSWORD === undefined))
      problems.push('BULL_BOARD_USERNAME and BULL_BOARD_PASSWORD must be set together');
    problems.push(...tlsProblems(e), ...shippedSecretProblems(e));
    if (e.TRUST_PROXY === 'true')
      problems.push(
        'TRUST_PROXY=true trusts any client to set X-Forwarded-For in production: name the hops or subnets instead',
      );
    if (e.BULL_BOARD_PASSWORD !== undefined && e.BULL_BOARD_PASSWORD.length < MIN_BULL_BOARD_PASSWORD_LENGTH)
      problems.push(
        `BULL_BOARD_PASSWORD must be at least ${MIN_BULL_BOARD_PASSWORD_LENGTH} characters in production`,
      );
    if (e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < MIN_METRICS_TOKEN_LENGTH)
      problems.push(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters in production`);
  }
  if (e.BUDGET_RESERVATION_TTL_MS !== undefined && e.BUDGET_RESERVATION_TTL_MS <= e.LLM_DEADLINE_MS)
    problems.push(
      'BUDGET_RESERVATION_TTL_MS must be longer than LLM_DEADLINE_MS (a live call must never lose its reservation)',
    );
  const llm = buildLlmSettings(e, googleCloudProject);
  if (isProduction) problems.push(...llmProductionProblems(llm));
  if (problems.length > 0) throw new ConfigError(problems);

  const migrateOnStart = isTrue(e.MIGRATE_ON_START, !isProduction);

  return deepFreeze({
    environment,
    isProduction,
    port: e.PORT,
    logLevel: e.LOG_LEVEL ?? (environment === 'test' ? 'silent' : 'info'),
    logFormat: e.LOG_FORMAT ?? (environment === 'development' ? 'pretty' : 'json'),
    databaseUrl,
    redisUrl,
    queuePrefix: e.QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX,
    supabaseUrl: e.SUPABASE_URL,
    supabaseServiceKey: e.SUPABASE_SERVICE_KEY,
    supabaseJwtSecret,
    jwtAudience: e.JWT_AUDIENCE ?? 'authenticated',
    googleCloudProject,
    googleCloudLocation: e.GOOGLE_CLOUD_LOCATION ?? 'us-central1',
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    secretKey,
    monthlyWorkspaceBudgetUsd: e.MONTHLY_WORKSPACE_BUDGET_USD ?? 50,
    maxWorkspacesPerUser: e.MAX_WORKSPACES_PER_USER,
    concurrency: {
      agentRunner: e.AGENT_RUNNER_CONCURRENCY,
      seeder: e.SEEDER_CONCURRENCY,
      costLedger: e.COST_LEDGER_CONCURRENCY,
    },
    workerPorts: { agentRunner: e.AGENT_RUNNER_PORT, seeder: e.SEEDER_PORT, costLedger: e.COST_LEDGER_PORT },
    bullBoard: {
      username: e.BULL_BOARD_USERNAME ?? (isProduction ? undefined : 'admin'),
      password: e.BULL_BOARD_PASSWORD ?? (isProduction ? undefined : DEV_BULL_BOARD_PASSWORD),
    },
    adminUserIds: e.ADMIN_USER_IDS,
    corsOrigins: e.CORS_ORIGINS,
    migrateOnStart,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    workerLocks: {
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: e.WORKER_MAX_STALLED_COUNT,
    },
    workerRateLimits: {
      agentRunner: e.AGENT_RUNNER_RATE_LIMIT_PER_SECOND,
      seeder: e.SEEDER_RATE_LIMIT_PER_SECOND,
      costLedger: e.COST_LEDGER_RATE_LIMIT_PER_SECOND,
    },
    outbox: { relayIntervalMs: e.OUTBOX_RELAY_INTERVAL_MS, retentionHours: e.OUTBOX_RETENTION_HOURS },
    rateLimits: {
      userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE,
      workspacePerMinute: e.RATE_LIMIT_WORKSPACE_PER_MINUTE,
    },
    adminLogin: { maxFailures: e.ADMIN_LOGIN_MAX_FAILURES, windowMs: e.ADMIN_LOGIN_WINDOW_MS },
    runStreamAccessCheckMs: e.RUN_STREAM_ACCESS_CHECK_MS,
    trustProxy: trustProxyFrom(e.TRUST_PROXY),
    tokenCacheMax: e.TOKEN_CACHE_MAX,
    membershipCache: { ttlMs: e.MEMBERSHIP_CACHE_TTL_MS, max: e.MEMBERSHIP_CACHE_MAX },
    llm,
    agentRuns: {
      timeoutMs: e.AGENT_RUN_TIMEOUT_MS,
      leaseMs: e.AGENT_RUN_LEASE_MS,
      workspaceConcurrency: e.AGENT_WORKSPACE_CONCURRENCY,
      seedingWaitMs: e.AGENT_SEEDING_WAIT_MS,
      checkpointRetentionHours: e.AGENT_CHECKPOINT_RETENTION_HOURS,
      checkpointPoolMax: e.AGENT_CHECKPOINT_POOL_MAX,
    },
    ledger: {
      alertWebhookUrl: e.BUDGET_ALERT_WEBHOOK_URL,
      alertWebhookTimeoutMs: e.BUDGET_ALERT_WEBHOOK_TIMEOUT_MS,
      reconcileIntervalMs: e.LEDGER_RECONCILE_INTERVAL_MS,
    },
    metricsToken: e.METRICS_TOKEN,
    defaultsUsed,
  });
}

function trustProxyFrom(v: string | undefined): boolean | number | string {
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** A secret anyone can read in this repository is no secret: production refuses each, by variable. */
function shippedSecretProblems(e: z.output<typeof envSchema>): string[] {
  const secrets: [string, string | undefined][] = [
    ['SUPABASE_JWT_SECRET', e.SUPABASE_JWT_SECRET],
    ['SECRET_KEY', e.SECRET_KEY],
    ['SUPABASE_SERVICE_KEY', e.SUPABASE_SERVICE_KEY],
    ['BULL_BOARD_PASSWORD', e.BULL_BOARD_PASSWORD],
    ['METRICS_TOKEN', e.METRICS_TOKEN],
    ['DATABASE_URL', databasePassword(e.DATABASE_URL)],
  ];
  return secrets
    .filter(([, value]) => value !== undefined && SHIPPED_SECRET_VALUES.has(value))
    .map(
      ([name]) =>
        `${name} is a value shipped with this repository (a development or example default): set a secret of your own`,
    );
}

function databasePassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Production talks to the outside only over TLS; each refusal names its variable. */
function tlsProblems(e: z.output<typeof envSchema>): string[] {
  const problems: string[] = [];
  if (e.DATABASE_URL !== undefined) {
    let sslmode: string | null = null;
    try {
      sslmode = new URL(e.DATABASE_URL).searchParams.get('sslmode');
    } catch {
      // An unparsable URL is reported by the driver at connect time; here it simply has no sslmode.
    }
    const mode = sslmode ?? e.PGSSLMODE;
    if (!mode || !TLS_SSLMODES.includes(mode))
      problems.push(
        `DATABASE_URL must use TLS in production: add ?sslmode=require (or verify-ca / verify-full), or set PGSSLMODE`,
      );
  }
  if (e.SUPABASE_URL !== undefined && !e.SUPABASE_URL.startsWith('https://'))
    problems.push('SUPABASE_URL must be an https:// URL in production (its JWKS is fetched from it)');
  if (e.BUDGET_ALERT_WEBHOOK_URL !== undefined && !e.BUDGET_ALERT_WEBHOOK_URL.startsWith('https://'))
    problems.push('BUDGET_ALERT_WEBHOOK_URL must be an https:// URL in production');
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

let cached: Settings | undefined;

/** Parsed once per process; a bad environment stops start-up with one message listing every problem. */
export function getSettings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}

/** Tests change the environment between cases; production code never calls this. */
export function resetSettingsForTests(): void {
  cached = undefined;
}
