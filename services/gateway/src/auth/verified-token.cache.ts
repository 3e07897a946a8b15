import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Bounded least-recently-used cache of verified tokens, each entry dying at the token's own expiry.
 * Keys are SHA-256 digests so a heap dump or a debugger never shows a usable bearer token.
 */
export class VerifiedTokenCache<V extends object> {
  private readonly lru: LRUCache<string, V> | undefined;

  constructor(
    max: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError('cache max must be a non-negative integer');
    // The cache's clock is the verifier's clock, so an entry expires exactly when its token does.
    this.lru = max > 0 ? new LRUCache<string, V>({ max, perf: { now }, ttlResolution: 0 }) : undefined;
  }

  static keyOf(token: string): string {
    // One-shot hash: no Hash object per request, the same digest.
    return hash('sha256', token, 'base64url');
  }

  get(token: string): V | undefined {
    return this.lru?.get(VerifiedTokenCache.keyOf(token));
  }

  /** Stores nothing for a token that is already expired by this cache's clock. */
  set(token: string, value: V, expiresAtMs: number): void {
    const ttl = expiresAtMs - this.now();
    if (!this.lru || !(ttl > 0)) return;
    this.lru.set(VerifiedTokenCache.keyOf(token), value, { ttl });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  /** The stored keys (token digests), least recently used first; for diagnostics and tests. */
  keys(): string[] {
    return this.lru ? [...this.lru.rkeys()] : [];
  }

  clear(): void {
    this.lru?.clear();
  }
}
