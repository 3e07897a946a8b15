import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { rateLimitKey } from '../edge/rate-limiter.service';

/**
 * Failed admin logins per client address, counted in Redis so every gateway replica sees the same count.
 *
 * Not the API's RateLimiter: that one leases requests to replicas and fails open, both right for capacity
 * and both wrong for password guessing, where every attempt must be counted before it is judged and an
 * outage of the counter must not quietly turn the lockout off.
 *
 * Each attempt that presents credentials first *reserves* a place in the count (one atomic script), and only
 * then are the credentials checked; a success gives its place back. So any number of concurrent guesses gets
 * at most `maxFailures` of them judged, and a locked-out address is refused before its credentials are even
 * looked at, the right password included: otherwise the lockout would tell a guesser when it guessed right.
 * The window is fixed from the address's first failure (the key expires with it); refused attempts do not
 * count, so hammering does not extend it.
 */
const RESERVE_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return {0, ttl}
end
return {1, ttl}
`;
// Gives back the place of an attempt that succeeded. Never creates the key (it may have expired meanwhile),
// and deletes it when that place was all it held, so no key without a TTL is ever left behind.
const RELEASE_LUA = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then return redis.call('DECR', KEYS[1]) end
if n == 1 then redis.call('DEL', KEYS[1]) end
return 0
`;
const RESERVE_SHA = createHash('sha1').update(RESERVE_LUA).digest('hex');
const RELEASE_SHA = createHash('sha1').update(RELEASE_LUA).digest('hex');

export interface AdminLoginThrottleOptions {
  redis: Redis;
  /** The API rate limiter's key prefix (`rl:<queue prefix without braces>`), so one deployment shares keys. */
  prefix: string;
  /** Failed attempts an address may make per window; the next attempt is refused. Default 10. */
  maxFailures?: number;
  /** Window length, from the first failure. Default 5 minutes. */
  windowMs?: number;
  /** A Redis slower than this counts as down. */
  timeoutMs?: number;
}

export type LoginAttempt =
  | {
      allowed: true;
      /** Call when the credentials were right: successes do not count. */ release(): Promise<void>;
    }
  | { allowed: false; retryAfterSeconds: number };

export class AdminLoginThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(opts: AdminLoginThrottleOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix;
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 300_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    if (!Number.isInteger(this.maxFailures) || this.maxFailures < 1)
      throw new Error(`admin login maxFailures must be a positive integer, got ${this.maxFailures}`);
    if (!Number.isInteger(this.windowMs) || this.windowMs < 1_000)
      throw new Error(`admin login windowMs must be an integer of at least 1000, got ${this.windowMs}`);
  }

  /** Rejects when Redis cannot answer: the caller refuses the request (503) rather than stop counting. */
  async reserve(clientAddress: string | undefined): Promise<LoginAttempt> {
    const key = this.keyOf(clientAddress);
    const [allowed, ttlMs] = (await this.run(RESERVE_SHA, RESERVE_LUA, key, [
      this.maxFailures,
      this.windowMs,
    ])) as [number, number];
    if (allowed !== 1) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
    let released = false;
    return {
      allowed: true,
      release: async () => {
        if (released) return;
        released = true;
        await this.run(RELEASE_SHA, RELEASE_LUA, key, []);
      },
    };
  }

  /**
   * `<prefix>:{admin-login:<address>}:<window seconds>`, by the API limiter's key rules (hash tag, odd ids
   * hashed). The last part is the window's length, not an index: a changed window starts a fresh count.
   */
  keyOf(clientAddress: string | undefined): string {
    return rateLimitKey(
      this.prefix,
      'admin-login',
      addressKey(clientAddress),
      Math.round(this.windowMs / 1000),
    );
  }

  // EVALSHA first, EVAL when Redis has not seen the script (a restart, a failover), as the API limiter does.
  private async run(sha: string, script: string, key: string, args: number[]): Promise<unknown> {
    const call = async () => {
      try {
        return await this.redis.evalsha(sha, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return this.redis.eval(script, 1, key, ...args);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    // The client fails fast while it is not connected (no offline queue), so a sign-in that arrives while it
    // is still connecting (a fresh replica, a reconnect) waits for it within the same time budget instead of
    // being refused as if Redis were down.
    let onReady: (() => void) | undefined;
    const connected =
      this.redis.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onReady = resolve;
            this.redis.once('ready', onReady);
          });
    try {
      return await Promise.race([connected.then(call), timeout]);
    } finally {
      clearTimeout(timer);
      if (onReady) this.redis.removeListener('ready', onReady);
    }
  }
}

/**
 * What one client is. IPv4 as it is (an IPv4-mapped IPv6 address too); IPv6 by its /64, because a single
 * host is usually handed a whole /64 and could otherwise take a fresh address for every guess.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const address = ip.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::`;
}

function expandIPv6(address: string): string[] {
  // A dotted IPv4 tail (64:ff9b::192.0.2.1) is two hextets.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (dotted) {
    const [, p, q, r, s] = dotted.map(Number) as [number, number, number, number, number];
    text = `${address.slice(0, dotted.index)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((h) => parseInt(h, 16).toString(16));
}
