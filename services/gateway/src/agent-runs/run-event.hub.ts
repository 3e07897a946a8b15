import type { Knex } from 'knex';
import { runDeltasChannel, runEventsChannel } from '@raptorflow/data/runs/run-events';
import type { RunDelta } from '@raptorflow/data/runs/run-events';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { TERMINAL_STATUSES } from '@raptorflow/data/repositories/agent-run.rows';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Redis } from '@raptorflow/core/redis/redis.factory';

/** One open stream of a run, as the hub sees it. */
export interface RunWatcher {
  readonly runId: string;
  /** The last event id the stream has sent. */
  readonly lastId: number;
  /** Something may be new; `runEnded` when the run is over (or gone), so the stream can drain and close. */
  wake(runEnded: boolean): void;
  /** Streamed model text of one of the run's steps (live only: never stored, never replayed). */
  delta?(d: RunDelta): void;
}

export interface RunEventHubOptions {
  db: Knex;
  /** A connection the hub may put in subscriber mode; made on the first watch when omitted. */
  subscriber?: Redis;
  prefix: string;
  pollMs?: number;
  logger: Logger;
}

/**
 * Wakes the open streams of this process. Two sources, both needed: a Redis message (the run id, published by
 * RunEventLog after each commit) for low latency, and a poll for what Redis lost (a dropped message, a
 * reconnect, a publisher that could not reach Redis). The poll is one query per tick for all open streams,
 * not one per stream, so a thousand watchers cost the database the same as one.
 */
export class RunEventHub {
  private readonly runs: AgentRunRepository;
  private readonly channel: string;
  private readonly deltas: string;
  private readonly pollMs: number;
  private readonly logger: Logger;
  private readonly watchers = new Map<string, Set<RunWatcher>>();
  private subscriber: Redis | undefined;
  private subscribed = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(opts: RunEventHubOptions) {
    this.runs = new AgentRunRepository(opts.db);
    this.subscriber = opts.subscriber;
    this.channel = runEventsChannel(opts.prefix);
    this.deltas = runDeltasChannel(opts.prefix);
    this.pollMs = opts.pollMs ?? 1_000;
    this.logger = opts.logger;
  }

  /** Starts waking `w`; the returned function stops it. */
  watch(w: RunWatcher): () => void {
    let set = this.watchers.get(w.runId);
    if (!set) this.watchers.set(w.runId, (set = new Set()));
    set.add(w);
    this.subscribe();
    this.timer ??= setInterval(() => void this.poll(), this.pollMs).unref();
    return () => {
      set.delete(w);
      if (set.size === 0 && this.watchers.get(w.runId) === set) this.watchers.delete(w.runId);
      if (this.watchers.size === 0) this.stopPolling();
    };
  }

  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Stops the poll; a subscriber the hub made itself is left to closeRedisConnections(). */
  close(): void {
    this.stopPolling();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Subscribes once per hub; ioredis resubscribes by itself after a reconnect. */
  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    const sub = (this.subscriber ??= createRedis('worker'));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) for (const w of this.watchers.get(message) ?? []) w.wake(false);
      else if (channel === this.deltas) this.delta(message);
    });
    sub.subscribe(this.channel, this.deltas).catch((err: unknown) => {
      this.logger.warn({ err }, 'run events not subscribed (Redis); streams rely on the poll');
    });
  }

  private delta(message: string): void {
    let d: RunDelta;
    try {
      d = JSON.parse(message) as RunDelta;
    } catch {
      return;
    }
    if (typeof d?.run_id !== 'string') return;
    for (const w of this.watchers.get(d.run_id) ?? []) w.delta?.(d);
  }

  private async poll(): Promise<void> {
    // A slow database must not pile ticks on top of each other.
    if (this.polling || this.watchers.size === 0) return;
    this.polling = true;
    try {
      const ids = [...this.watchers.keys()];
      const rows = await this.runs.progress(ids);
      const seen = new Map(rows.map((r) => [r.id, r]));
      for (const id of ids) {
        const row = seen.get(id);
        // A run that vanished (its workspace was deleted) ends its streams like a finished one.
        const ended = !row || TERMINAL_STATUSES.includes(row.status);
        const last = Number(row?.last_event_id ?? 0);
        for (const w of this.watchers.get(id) ?? []) if (ended || last > w.lastId) w.wake(ended);
      }
    } catch (err) {
      this.logger.debug({ err }, 'run event poll failed; retrying on the next tick');
    } finally {
      this.polling = false;
    }
  }
}
