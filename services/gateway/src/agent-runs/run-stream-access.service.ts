import { INVALIDATION_TOPICS } from '@raptorflow/core/cache/invalidation-bus';
import type { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { MembershipService } from '../workspaces/membership.service';

/** One open stream, as the access check sees it. */
export interface AccessHolder {
  /** Lower case (normalized at authentication). */
  readonly userId: string;
  readonly workspaceId: string;
  /** Send nothing more until resume() or revoke(): access is being re-checked. */
  hold(): void;
  /** Still a member: send what was held back. No-op when not held. */
  resume(): void;
  /** Access has ended: tell the client and close. */
  revoke(): void;
}

export interface RunStreamAccessOptions {
  memberships: MembershipService;
  /** Membership changes from every gateway replica; without it only the periodic re-check applies. */
  invalidations?: InvalidationBus;
  /**
   * Every open stream's membership is re-read this often, through the membership cache: the bound for a
   * removal whose invalidation message was lost (then cache TTL + this). Default 30 s.
   */
  recheckMs?: number;
  logger: Logger;
}

interface Tracked {
  holder: AccessHolder;
  /** Bumped by every membership change of the user; a check answers only for the generation it started in. */
  gen: number;
  held: boolean;
  closed: boolean;
}

const RETRY_MS = 1_000;

/**
 * Keeps open run event streams honest about membership. The route checks it once, when the stream opens;
 * a stream can then stay open for the whole run, so a member removed meanwhile would keep reading it.
 *
 * On a membership change of a stream's user (the invalidation bus: this replica's own changes at once,
 * other replicas' through Redis) the stream is held — nothing more is sent — before anything is awaited, then
 * its membership is read again: still a member → resume, otherwise → revoke. Holding first is what makes
 * "nothing appended after the removal is delivered" true for a removal made on this replica: the bus runs
 * local handlers before the removal's response goes out. A periodic re-check covers lost messages.
 */
export class RunStreamAccess {
  private readonly memberships: MembershipService;
  private readonly recheckMs: number;
  private readonly logger: Logger;
  private readonly byUser = new Map<string, Set<Tracked>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(opts: RunStreamAccessOptions) {
    this.memberships = opts.memberships;
    this.recheckMs = opts.recheckMs ?? 30_000;
    this.logger = opts.logger;
    opts.invalidations?.on(INVALIDATION_TOPICS.membership, (userId) => this.changed(userId));
  }

  /** Starts watching `holder`'s access; the returned function stops it (call it when the stream closes). */
  track(holder: AccessHolder): () => void {
    const key = holder.userId.toLowerCase();
    const entry: Tracked = { holder, gen: 0, held: false, closed: false };
    let set = this.byUser.get(key);
    if (!set) this.byUser.set(key, (set = new Set()));
    set.add(entry);
    this.timer ??= setInterval(() => void this.sweep(), this.recheckMs).unref();
    return () => {
      entry.closed = true;
      set.delete(entry);
      if (set.size === 0 && this.byUser.get(key) === set) this.byUser.delete(key);
      if (this.byUser.size === 0) this.stop();
    };
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private changed(userId: string): void {
    for (const entry of this.byUser.get(userId.toLowerCase()) ?? []) {
      entry.gen += 1;
      entry.held = true;
      entry.holder.hold();
      // After the message's other handlers have run: the membership cache drops the user's entries in one
      // of them, and the check must not read the entry the change just made stale.
      setImmediate(() => void this.check(entry));
    }
  }

  private async check(entry: Tracked): Promise<void> {
    if (entry.closed) return;
    const gen = entry.gen;
    let member: boolean;
    try {
      member = (await this.memberships.find(entry.holder.userId, entry.holder.workspaceId)) !== undefined;
    } catch (err) {
      // Unknown is not "still a member": a held stream stays held and is checked again shortly (a stream
      // that was not held waits for the next sweep).
      this.logger.warn({ err, workspace_id: entry.holder.workspaceId }, 'stream access re-check failed');
      if (entry.held && entry.gen === gen) setTimeout(() => void this.check(entry), RETRY_MS).unref();
      return;
    }
    // A newer change is being checked; its answer is the one that counts.
    if (entry.closed || entry.gen !== gen) return;
    entry.held = false;
    if (member) entry.holder.resume();
    else entry.holder.revoke();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      // Through the cache: a tick costs a map lookup per stream, and reads the database once per TTL.
      const entries = [...this.byUser.values()].flatMap((set) => [...set]);
      for (const entry of entries) await this.check(entry);
    } finally {
      this.sweeping = false;
    }
  }
}
