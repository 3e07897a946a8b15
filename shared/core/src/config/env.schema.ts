import { z } from 'zod';
import { booleanish, csv, intFrom, optionalString } from './env-parsers';
import { llmEnvShape } from './llm-settings';
import { redisEnvShape } from './redis-settings';

/** The environment variables, as one zod schema: parsed once, by parseSettings (settings.ts). */
export const envSchema = z.object({
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
  ...redisEnvShape,
  PGSSLMODE: optionalString,
  QUEUE_PREFIX: optionalString,
  METRICS_TOKEN: optionalString,
  SUPABASE_URL: optionalString.pipe(z.url().optional()),
  SUPABASE_SERVICE_KEY: optionalString,
  SUPABASE_ANON_KEY: optionalString,
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
  COST_LEDGER_CONCURRENCY: intFrom(256, 1, 1024),
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
  AGENT_APPROVAL_TTL_MS: intFrom(86_400_000, 1_000, 2_592_000_000),
  BUDGET_ALERT_WEBHOOK_URL: optionalString.pipe(z.url().optional()),
  BUDGET_ALERT_WEBHOOK_TIMEOUT_MS: intFrom(5_000, 100, 120_000),
  LEDGER_RECONCILE_INTERVAL_MS: intFrom(3_600_000, 0, 86_400_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(
    z
      .url()
      .regex(/^https?:\/\//, 'must be an http:// or https:// URL (OTLP/HTTP)')
      .optional(),
  ),
  OTEL_EXPORTER_OTLP_HEADERS: optionalString.pipe(
    z
      .string()
      .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, 'must be key=value pairs separated by commas')
      .optional(),
  ),
  OTEL_SERVICE_NAME: optionalString,
  OTEL_TRACES_SAMPLER_ARG: optionalString.pipe(z.coerce.number<string>().min(0).max(1).optional()),
  OTEL_BSP_SCHEDULE_DELAY: intFrom(5_000, 10, 600_000),
});

export type EnvVars = z.output<typeof envSchema>;

/** Every variable the configuration reads (`.env.example` must list each one; a test checks it). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema.shape));
