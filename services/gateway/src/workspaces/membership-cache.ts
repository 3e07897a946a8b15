import { LRUCache } from 'lru-cache';
import { INVALIDATION_TOPICS } from '@raptorflow/core/cache/invalidation-bus';
import type { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';

export interface CachedMembership {
  workspaceId: string;
  role: WorkspaceRole;
}

/** `{none}` caches "not a member", so probing foreign workspaces does not hit the database each time. */
type Entry = CachedMembership | { none: true };

export interface MembershipCacheOptions {
  ttlMs: number;
  max: number;
  /** Broadcasts invalidations to the other gateway replicas; omit for a single-process cache. */
  invalidations?: InvalidationBus;
}

const ANY = '*';

function keyOf(userId: string, workspaceId: string | undefined): string {
  return `${userId.toLowerCase()}:${workspaceId?.toLowerCase() ?? ANY}`;
}

/**
 * Per-(user, workspace) membership lookups, bounded and short-lived. Every membership change invalidates the
 * user's entries here and, through the invalidation bus, in every other gateway replica. If a broadcast is
 * lost (Redis down), the TTL bounds how long another replica can be stale.
 */
export class MembershipCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  /** Bumped by every invalidation; a lookup that raced one does not write its (possibly stale) result back. */
  private epoch = 0;

  constructor(private readonly opts: MembershipCacheOptions) {
    this.lru = opts.max > 0 && opts.ttlMs > 0 ? new LRUCache({ max: opts.max, ttl: opts.ttlMs }) : undefined;
    opts.invalidations?.on(INVALIDATION_TOPICS.membership, (userId) => this.dropUser(userId));
  }

  /**
   * What getOrLoad would answer from the cache, without a promise: the membership, `null` for a cached
   * "not a member", undefined when it would have to load.
   */
  peek(userId: string, workspaceId: string | undefined): CachedMembership | null | undefined {
    const hit = this.lru?.get(keyOf(userId, workspaceId));
    if (!hit) return undefined;
    return 'none' in hit ? null : hit;
  }

  async getOrLoad(
    userId: string,
    workspaceId: string | undefined,
    load: () => Promise<CachedMembership | undefined>,
  ): Promise<CachedMembership | undefined> {
    const key = keyOf(userId, workspaceId);
    const hit = this.lru?.get(key);
    if (hit) return 'none' in hit ? undefined : hit;
    const epoch = this.epoch;
    const value = await load();
    if (this.lru && epoch === this.epoch) this.lru.set(key, value ?? { none: true });
    return value;
  }

  /** Call after the change has committed. */
  async invalidate(userId: string): Promise<void> {
    if (this.opts.invalidations)
      await this.opts.invalidations.publish(INVALIDATION_TOPICS.membership, userId);
    else this.dropUser(userId);
  }

  private dropUser(userId: string): void {
    this.epoch++;
    if (!this.lru) return;
    // Keys are lower case whatever spelling a token or a request path used for the id: a removal written
    // `/members/6F68…` must drop the entries of the user who signed in as `6f68…`, and the other way round.
    const prefix = `${userId.toLowerCase()}:`;
    // A user has few memberships; scanning keys is cheaper than keeping a secondary index in sync.
    for (const key of this.lru.keys()) if (key.startsWith(prefix)) this.lru.delete(key);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
