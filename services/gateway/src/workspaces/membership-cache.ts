import { LRUCache } from 'lru-cache';
import type { Logger, Redis, WorkspaceRole } from '@raptorflow/shared';

export interface CachedMembership {
  workspaceId: string;
  role: WorkspaceRole;
}

/** `null` caches "not a member", so probing foreign workspaces does not hit the database each time. */
type Entry = CachedMembership | { none: true };

export interface MembershipCacheOptions {
  ttlMs: number;
  max: number;
  /** Publishes invalidations to the other gateway replicas; omit for a single-process cache. */
  publisher?: Redis;
  /** A dedicated connection in subscriber mode (it can do nothing else). */
  subscriber?: Redis;
  channel?: string;
  logger?: Logger;
}

const ANY = '*';

/**
 * Per-(user, workspace) membership lookups, bounded and short-lived. Every membership change invalidates the
 * user's entries here and, over Redis pub/sub, in every other gateway replica. If a publish is lost (Redis
 * down), the TTL bounds how long another replica can be stale.
 */
export class MembershipCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  /** Bumped by every invalidation; a lookup that raced one does not write its (possibly stale) result back. */
  private epoch = 0;
  readonly channel: string;

  constructor(private readonly opts: MembershipCacheOptions) {
    this.lru = opts.max > 0 && opts.ttlMs > 0 ? new LRUCache({ max: opts.max, ttl: opts.ttlMs }) : undefined;
    this.channel = opts.channel ?? 'raptorflow:membership-invalidated';
  }

  async start(): Promise<void> {
    const sub = this.opts.subscriber;
    if (!sub || !this.lru) return;
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.dropUser(message);
    });
    await sub.subscribe(this.channel);
  }

  key(userId: string, workspaceId: string | undefined): string {
    return `${userId}:${workspaceId ?? ANY}`;
  }

  async getOrLoad(
    userId: string,
    workspaceId: string | undefined,
    load: () => Promise<CachedMembership | undefined>,
  ): Promise<CachedMembership | undefined> {
    const key = this.key(userId, workspaceId);
    const hit = this.lru?.get(key);
    if (hit) return 'none' in hit ? undefined : hit;
    const epoch = this.epoch;
    const value = await load();
    if (this.lru && epoch === this.epoch) this.lru.set(key, value ?? { none: true });
    return value;
  }

  /** Call after the change has committed. */
  async invalidate(userId: string): Promise<void> {
    this.dropUser(userId);
    if (!this.opts.publisher || !this.lru) return;
    try {
      await this.opts.publisher.publish(this.channel, userId);
    } catch (err) {
      this.opts.logger?.warn(
        { err, user_id: userId },
        'membership invalidation not broadcast; replicas expire it by TTL',
      );
    }
  }

  private dropUser(userId: string): void {
    this.epoch++;
    if (!this.lru) return;
    // A user has few memberships; scanning keys is cheaper than keeping a secondary index in sync.
    for (const key of this.lru.keys()) if (key.startsWith(`${userId}:`)) this.lru.delete(key);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
