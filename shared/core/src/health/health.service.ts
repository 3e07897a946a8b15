import type { Knex } from 'knex';
import type { Settings } from '../config/settings';
import { checkRedis } from '../redis/redis.factory';
import type { Redis } from '../redis/redis.factory';

export type HealthStatus = 'ok' | 'degraded' | 'down';

/** One model of an alias chain as /health shows it (the ModelRouter builds these). */
export interface ModelHealth {
  model: string;
  provider: string;
  mode: 'live' | 'local';
  retires_on: string | null;
  retired: boolean;
}

/** An alias: its first model still in service, and its whole chain. */
export interface AliasHealth extends ModelHealth {
  alias: string;
  chain: ModelHealth[];
}

export interface DependencyCheck {
  status: 'ok' | 'down';
  latency_ms: number;
  error?: string;
}

export interface HealthReport {
  status: HealthStatus;
  service: string;
  environment: string;
  checks: {
    redis: DependencyCheck;
    database: DependencyCheck;
    vertex_ai: { configured: boolean; project?: string; location: string };
    anthropic: { configured: boolean };
    /** `local` when every alias is served by the offline stand-in, `mixed` when some are. */
    models: 'live' | 'local' | 'mixed';
    /** Each alias: its model in service, provider, live|local, retires_on, and its whole fallback chain. */
    aliases: AliasHealth[];
    /** How memory search finds near vectors here (services that use memory): pgvector's HNSW or an exact scan. */
    memory?: { search_path: 'pgvector' | 'exact' };
  };
  uptime_s: number;
}

export interface HealthServiceOptions {
  service: string;
  db: Knex;
  redis: Redis;
  settings: Settings;
  /** The alias table of the process's ModelRouter (built at start-up from the model catalog). */
  models: () => AliasHealth[];
  /** The memory search path, for services that search memory (detected at start-up). */
  memorySearchPath?: 'pgvector' | 'exact';
  timeoutMs?: number;
}

/**
 * down = a dependency that every request needs (Redis, PostgreSQL) is unreachable → 503;
 * degraded = serving, but an alias answers with the offline `local` stand-in (development without
 * credentials), or a configured model is past its retirement date (its chain is running on fallbacks).
 */
export class HealthService {
  private readonly started = Date.now();
  constructor(private readonly opts: HealthServiceOptions) {}

  async check(): Promise<HealthReport> {
    const timeoutMs = this.opts.timeoutMs ?? 2_000;
    const [redis, database] = await Promise.all([
      timed(() => checkRedis(this.opts.redis), timeoutMs),
      timed(() => this.opts.db.raw('select 1'), timeoutMs),
    ]);
    const s = this.opts.settings;
    const live = s.llm.mode === 'auto';
    const vertexConfigured = live && Boolean(s.llm.gemini.vertex || s.llm.gemini.apiKey);
    const anthropicConfigured = live && Boolean(s.llm.anthropic.apiKey || s.llm.anthropic.vertex);
    const aliases = this.opts.models();
    const models = [...aliases.flatMap((a) => a.chain)];
    const localCount = aliases.filter((a) => a.mode === 'local').length;
    const degraded = localCount > 0 || models.some((m) => m.retired);
    const down = redis.status === 'down' || database.status === 'down';
    const status: HealthStatus = down ? 'down' : degraded ? 'degraded' : 'ok';
    return {
      status,
      service: this.opts.service,
      environment: s.environment,
      checks: {
        redis,
        database,
        vertex_ai: {
          configured: vertexConfigured,
          ...(s.googleCloudProject ? { project: s.googleCloudProject } : {}),
          location: s.googleCloudLocation,
        },
        anthropic: { configured: anthropicConfigured },
        models: localCount === 0 ? 'live' : localCount === aliases.length ? 'local' : 'mixed',
        aliases,
        ...(this.opts.memorySearchPath ? { memory: { search_path: this.opts.memorySearchPath } } : {}),
      },
      uptime_s: Math.round((Date.now() - this.started) / 1000),
    };
  }
}

async function timed(fn: () => Promise<unknown>, timeoutMs: number): Promise<DependencyCheck> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok', latency_ms: round(performance.now() - start) };
  } catch (err) {
    // Only the kind of failure: driver messages can quote hosts and users.
    const message = err instanceof Error ? err.message : String(err);
    return {
      status: 'down',
      latency_ms: round(performance.now() - start),
      error: message.includes('no answer') ? message : 'unreachable',
    };
  } finally {
    clearTimeout(timer);
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export function httpStatusFor(report: HealthReport): number {
  return report.status === 'down' ? 503 : 200;
}
