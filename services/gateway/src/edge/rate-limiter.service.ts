import { createHash } from 'node:crypto';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Redis } from '@raptorflow/core/redis/redis.factory';

/**
 * Sliding-window counter (the Cloudflare / nginx approximation): one counter per fixed 60 s window, and the
 * estimate for "the last 60 s" is `previous × (unelapsed share of the current window) + current`.
 *
 * Why this and not GCRA / a token bucket: the limits are advertised as "N per 60 s window"
 * (`RateLimit-Policy: N;w=60`), and a window counter enforces exactly that promise, while GCRA would turn it
 * into "a burst of N, then one every 60/N s", which users misread as a bug. Two small integer keys per subject
 * that expire on their own; no per-request timestamps (a sorted-set log would cost O(N) memory per subject).
 * The approximation assumes evenly spread traffic in the previous window; Cloudflare measured 0.003 % of
 * requests wrongly judged across 400M requests, well inside what a per-minute abuse limit needs.
 *
 * Everything happens in one Lua script so read-decide-increment is atomic across every gateway replica.
 * Each call takes a small lease (up to 5 % of the limit, at most 100 requests, at most a quarter of what is
 * left) that this replica then spends locally: one Redis round trip per lease instead of per request, and the
 * sum of all leases never exceeds the limit, so leasing can only admit less, never more.
 * Integer arithmetic (counts × milliseconds) keeps the decision exact in Lua's doubles: no 0.1 + 0.2 drift at
 * the boundary between the last allowed and the first refused request.
 */
const SLIDING_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local left = window - elapsed
local budget = limit * window
-- How many more requests fit right now.
local room = math.floor((budget - prev * left - curr * window) / window)
if room >= 1 then
  -- A lease of up to \`want\` requests, never more than a quarter of what is left: near the limit leases
  -- shrink to one request, so replicas holding unused leases cannot starve each other for long.
  local grant = math.min(want, math.max(1, math.floor(room / 4)))
  curr = redis.call('INCRBY', KEYS[1], grant)
  -- The key must outlive its own window plus the next one, where it serves as "previous".
  if curr == grant then redis.call('PEXPIRE', KEYS[1], window * 2 + 1000) end
  return {grant, room - grant, left}
end
-- Refused requests are not counted: a client that keeps hammering must not extend its own lockout.
local wait
if curr < limit then
  -- The previous window's weight has to fade until one unit fits.
  wait = left - math.floor((limit - 1 - curr) * window / prev)
else
  -- Nothing fits before this window ends; then this window's count fades as "previous".
  wait = left + math.ceil(window - (limit - 1) * window / curr)
end
return {0, 0, wait}
`;
const SLIDING_WINDOW_SHA = createHash('sha1').update(SLIDING_WINDOW_LUA).digest('hex');

export const RATE_LIMIT_WINDOW_SECONDS = 60;
const WINDOW_MS = RATE_LIMIT_WINDOW_SECONDS * 1000;
const WARN_EVERY_MS = 10_000;
const MAX_LEASE = 100;
// Unused leases are dropped oldest-first beyond this many subjects (they only ever make the limit stricter).
const MAX_TRACKED_SUBJECTS = 50_000;

interface Lease {
  limit: number;
  /** Requests this replica may still admit without asking Redis. */
  tokens: number;
  /** What Redis had left for everyone else when the lease was granted. */
  remainingAfter: number;
  windowEndMs: number;
}
// UUIDs and other plain ids go into keys as they are (readable in redis-cli); anything else is hashed.
const PLAIN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface RateLimiterOptions {
  redis: Redis;
  /** Key namespace; keep it distinct per deployment or test file. */
  prefix?: string;
  /** Milliseconds since the epoch; injectable so tests can roll windows without waiting. */
  now?: () => number;
  logger?: Pick<Logger, 'warn'>;
  /** A Redis that hangs is treated like one that is down (see consume()). */
  timeoutMs?: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed right now (0 when refused). */
  remaining: number;
  /**
   * Seconds until the quota moves: when allowed, the end of the current window (from then on this window's
   * count starts fading); when refused, the same as retryAfter.
   */
  reset: number;
  /** Seconds until one more request would be allowed; 0 when allowed. */
  retryAfter: number;
}

/**
 * `<prefix>:{<scope>:<id>}:<window>`. The braces are a Redis Cluster hash tag: both windows of one subject
 * share a slot (the script touches both) while different subjects spread over the cluster. Ids that are not
 * plain (and so could smuggle a `}` or a credential into a key) are replaced by a hash.
 */
export function rateLimitKey(prefix: string, scope: string, id: string, window: number): string {
  const safeId = PLAIN_ID.test(id) ? id : `h.${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
  return `${prefix}:{${scope}:${safeId}}:${window}`;
}

export class RateLimiter {
  readonly windowSeconds = RATE_LIMIT_WINDOW_SECONDS;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private logger: Pick<Logger, 'warn'> | undefined;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private readonly leases = new Map<string, Lease>();
  private readonly inflight = new Map<string, Promise<RateLimitDecision | null>>();
  private suppressedWarnings = 0;

  constructor(opts: RateLimiterOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix ?? 'rl';
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.logger = opts.logger;
  }

  /**
   * Counts one request of `id` in `scope` against `limit` per minute.
   *
   * Resolves to null when Redis cannot answer (down, refusing connections or slower than timeoutMs): the
   * caller should FAIL OPEN. A rate limit protects capacity; turning a Redis outage into a full API outage
   * would be the larger harm, and auth, workspace guards and budgets still apply. The warning is throttled to
   * one per 10 s because every request would otherwise log it while Redis is down.
   */
  async consume(scope: string, id: string, limit: number): Promise<RateLimitDecision | null> {
    const subject = `${scope}:${id}`;
    return this.consumeSubject(scope, id, subject, limit);
  }

  /**
   * The same count as consume(), decided without a promise when this replica holds a lease for the subject
   * (nearly every request): the decision itself then, else a promise of it (a Redis round trip).
   */
  take(scope: string, id: string, limit: number): RateLimitDecision | Promise<RateLimitDecision | null> {
    const subject = `${scope}:${id}`;
    return this.spendLease(subject, limit, this.now()) ?? this.consumeSubject(scope, id, subject, limit);
  }

  private async consumeSubject(
    scope: string,
    id: string,
    subject: string,
    limit: number,
  ): Promise<RateLimitDecision | null> {
    for (;;) {
      const now = this.now();
      const local = this.spendLease(subject, limit, now);
      if (local) return local;
      // Concurrent requests of one subject share one lease request instead of racing to Redis.
      const pending = this.inflight.get(subject);
      if (!pending) break;
      const decision = await pending;
      if (!decision?.allowed) return decision;
    }
    const request = this.lease(scope, id, limit).finally(() => this.inflight.delete(subject));
    this.inflight.set(subject, request);
    return request;
  }

  private spendLease(subject: string, limit: number, now: number): RateLimitDecision | undefined {
    const lease = this.leases.get(subject);
    if (!lease || lease.tokens <= 0 || lease.limit !== limit || now >= lease.windowEndMs) return undefined;
    lease.tokens -= 1;
    const reset = Math.max(1, Math.ceil((lease.windowEndMs - now) / 1000));
    return { allowed: true, limit, remaining: lease.remainingAfter + lease.tokens, reset, retryAfter: 0 };
  }

  private async lease(scope: string, id: string, limit: number): Promise<RateLimitDecision | null> {
    // The gateway's clock, not Redis TIME: keys must be named before the script runs (Cluster routing), and
    // NTP-level skew between replicas only blurs the few milliseconds around a window boundary.
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    const keys = [
      rateLimitKey(this.prefix, scope, id, window),
      rateLimitKey(this.prefix, scope, id, window - 1),
    ];
    const want = Math.max(1, Math.min(MAX_LEASE, Math.floor(limit / 20)));
    const args = [limit, WINDOW_MS, now - window * WINDOW_MS, want];
    let reply: unknown;
    try {
      reply = await this.withTimeout(this.runScript(keys, args));
    } catch (err) {
      this.warnUnavailable(err, now);
      return null;
    }
    const [granted, remainingAfter, waitMs] = reply as [number, number, number];
    const subject = `${scope}:${id}`;
    if (granted > 0) {
      // This request takes one; the rest of the lease serves the next requests until the window ends.
      this.leases.set(subject, { limit, tokens: granted - 1, remainingAfter, windowEndMs: now + waitMs });
      if (this.leases.size > MAX_TRACKED_SUBJECTS) this.leases.delete(this.leases.keys().next().value!);
      const remaining = remainingAfter + granted - 1;
      return { allowed: true, limit, remaining, reset: Math.max(1, Math.ceil(waitMs / 1000)), retryAfter: 0 };
    }
    this.leases.delete(subject);
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    return { allowed: false, limit, remaining: 0, reset: retryAfter, retryAfter };
  }

  // EVALSHA first (the script body is sent once per Redis server, not per request); EVAL on NOSCRIPT after a
  // restart or failover, which also caches it again. Not defineCommand: that would mutate the shared client.
  private async runScript(keys: string[], args: number[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(SLIDING_WINDOW_SHA, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(SLIDING_WINDOW_LUA, keys.length, ...keys, ...args);
    }
  }

  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private warnUnavailable(err: unknown, now: number): void {
    if (now - this.lastWarnAt < WARN_EVERY_MS) {
      this.suppressedWarnings += 1;
      return;
    }
    this.logger ??= createLogger('rate-limiter');
    this.logger.warn(
      { err, suppressed: this.suppressedWarnings },
      'rate limiter: Redis unavailable, letting requests through unlimited (fail open)',
    );
    this.lastWarnAt = now;
    this.suppressedWarnings = 0;
  }
}
