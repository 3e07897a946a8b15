/**
 * The one place that reads the environment. Everything else asks getSettings(), so a typo in a variable
 * name is a start-up error rather than a silent `undefined` deep inside a request.
 */
import { isTrue } from './env-parsers';
import { envSchema } from './env.schema';
import {
  DEV_BULL_BOARD_PASSWORD,
  DEV_JWT_SECRET,
  DEV_SECRET_KEY,
  productionProblems,
  trustProxyFrom,
} from './production-rules';

export { CONFIG_VARIABLES } from './env.schema';
export { SHIPPED_SECRET_VALUES } from './production-rules';
import { buildLlmSettings, llmProductionProblems } from './llm-settings';
import { buildRedisCluster, redisClusterProblems } from './redis-settings';
import type { RedisClusterSettings } from './redis-settings';
import type { LlmSettings } from './llm-settings';

export const DEFAULT_QUEUE_PREFIX = '{raptorflow}';

export type { LlmProviderName, LlmSettings, ModelAliasName, ModelRoute } from './llm-settings';
export type { RedisClusterNode, RedisClusterSettings } from './redis-settings';

export interface TracingSettings {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; traces go to `<endpoint>/v1/traces`. */
  endpoint: string | undefined;
  /** OTEL_EXPORTER_OTLP_HEADERS as a map (an API key for a hosted collector: a secret, never logged). */
  headers: Readonly<Record<string, string>>;
  /** OTEL_SERVICE_NAME: overrides `raptorflow-<service>`. */
  serviceName: string | undefined;
  /** OTEL_TRACES_SAMPLER_ARG: share of new traces kept (1 = all); a parent's decision is always followed. */
  sampleRatio: number;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be sent in one batch. */
  exportDelayMs: number;
}

export type Environment = 'development' | 'test' | 'production';

export interface Settings {
  environment: Environment;
  isProduction: boolean;
  port: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  databaseUrl: string;
  /** The single Redis; unused (a development default) when redisCluster is set. */
  redisUrl: string;
  /** REDIS_CLUSTER_NODES set: every connection is a Redis Cluster client and REDIS_URL is ignored. */
  redisCluster: RedisClusterSettings | undefined;
  queuePrefix: string;
  supabaseUrl: string | undefined;
  supabaseServiceKey: string | undefined;
  /** The project's public (anon) key: handed to the console for Supabase Auth sign-in; not a secret. */
  supabaseAnonKey: string | undefined;
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
    /** A run paused for a human's approval fails with `approval_expired` after this long undecided. */
    approvalTtlMs: number;
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
  /** OpenTelemetry traces: exported over OTLP/HTTP only when an endpoint is set (see telemetry/tracing.ts). */
  tracing: TracingSettings;
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
  const redisCluster = buildRedisCluster(e);
  const queuePrefix = e.QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX;
  // In cluster mode REDIS_URL is ignored, so it is neither required nor announced as defaulted.
  const redisUrl = redisCluster
    ? (e.REDIS_URL ?? 'redis://127.0.0.1:6379')
    : need('REDIS_URL', e.REDIS_URL, 'redis://127.0.0.1:6379');
  const supabaseJwtSecret = need('SUPABASE_JWT_SECRET', e.SUPABASE_JWT_SECRET, DEV_JWT_SECRET);
  const secretKey = need('SECRET_KEY', e.SECRET_KEY, DEV_SECRET_KEY);
  const googleCloudProject = isProduction
    ? need('GOOGLE_CLOUD_PROJECT', e.GOOGLE_CLOUD_PROJECT, undefined)
    : e.GOOGLE_CLOUD_PROJECT;

  if (isProduction) problems.push(...productionProblems(e, invalid));
  problems.push(...redisClusterProblems(redisCluster, queuePrefix, isProduction));
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
    redisCluster,
    queuePrefix,
    supabaseUrl: e.SUPABASE_URL,
    supabaseServiceKey: e.SUPABASE_SERVICE_KEY,
    supabaseAnonKey: e.SUPABASE_ANON_KEY,
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
      approvalTtlMs: e.AGENT_APPROVAL_TTL_MS,
    },
    ledger: {
      alertWebhookUrl: e.BUDGET_ALERT_WEBHOOK_URL,
      alertWebhookTimeoutMs: e.BUDGET_ALERT_WEBHOOK_TIMEOUT_MS,
      reconcileIntervalMs: e.LEDGER_RECONCILE_INTERVAL_MS,
    },
    metricsToken: e.METRICS_TOKEN,
    tracing: {
      endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
      headers: otlpHeaders(e.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: e.OTEL_SERVICE_NAME,
      sampleRatio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
      exportDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
    },
    defaultsUsed,
  });
}

/** `k1=v1,k2=v2` (values percent-decoded, as the OpenTelemetry specification says) → a map. */
function otlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of raw ? raw.split(',') : []) {
    const at = pair.indexOf('=');
    const value = pair.slice(at + 1).trim();
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // Not percent-encoded after all: keep it as written.
    }
    headers[pair.slice(0, at).trim()] = decoded;
  }
  return headers;
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
