import { createHash } from 'node:crypto';

interface Entry<V> {
  value: V;
  expiresAtMs: number;
}

/**
 * Bounded least-recently-used cache of verified tokens, each entry dying at the token's own expiry.
 *
 * Keys are SHA-256 digests so a heap dump or a debugger never shows a usable bearer token. This is a small
 * Map-based LRU rather than the `lru-cache` package: from services/gateway, `import 'lru-cache'` resolves to
 * the hoisted lru-cache@5 that only jest/babel depend on (11.x is nested under shared/node_modules), and that
 * copy is absent from a production install.
 */
export class VerifiedTokenCache<V> {
  // A Map iterates in insertion order, so re-inserting on every hit makes the first key the least recently used.
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError('cache max must be a non-negative integer');
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(token: string): V | undefined {
    if (this.max === 0) return undefined;
    const key = VerifiedTokenCache.keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAtMs <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores nothing for a token that is already expired by this cache's clock. */
  set(token: string, value: V, expiresAtMs: number): void {
    if (this.max === 0 || !(expiresAtMs > this.now())) return;
    const key = VerifiedTokenCache.keyOf(token);
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The stored keys (token digests), least recently used first; for diagnostics and tests. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}
