import type { Logger } from '../logging/logger';
import type { Redis } from '../redis/redis.factory';

export type InvalidationHandler = (key: string) => void;

export interface InvalidationBusOptions {
  /** Fail-fast connection used to publish. */
  publisher: Redis;
  /** A dedicated connection in subscriber mode; omit in processes that only publish (workers). */
  subscriber?: Redis;
  /** Keeps test runs and deployments sharing one Redis apart (the queue prefix is a good choice). */
  namespace: string;
  logger?: Logger;
}

/**
 * Tells every process holding an in-memory cache that some entry changed. Messages are best-effort
 * (Redis pub/sub): a cache using this must also bound staleness with a TTL.
 */
export class InvalidationBus {
  private readonly handlers = new Map<string, Set<InvalidationHandler>>();
  private started = false;

  constructor(private readonly opts: InvalidationBusOptions) {}

  channel(topic: string): string {
    return `raptorflow:${this.opts.namespace}:invalidate:${topic}`;
  }

  on(topic: string, handler: InvalidationHandler): void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    if (this.started) void this.subscribe([topic]);
  }

  async start(): Promise<void> {
    const sub = this.opts.subscriber;
    if (!sub || this.started) return;
    this.started = true;
    sub.on('message', (channel: string, key: string) => {
      for (const [topic, set] of this.handlers)
        if (this.channel(topic) === channel) for (const h of set) h(key);
    });
    await this.subscribe([...this.handlers.keys()]);
  }

  /** Runs local handlers at once, then tells the other processes. Never throws: a lost message only ages out. */
  async publish(topic: string, key: string): Promise<void> {
    for (const h of this.handlers.get(topic) ?? []) h(key);
    try {
      await this.opts.publisher.publish(this.channel(topic), key);
    } catch (err) {
      this.opts.logger?.warn(
        { err, topic },
        'cache invalidation not broadcast; other processes expire it by TTL',
      );
    }
  }

  private async subscribe(topics: string[]): Promise<void> {
    if (topics.length === 0 || !this.opts.subscriber) return;
    try {
      await this.opts.subscriber.subscribe(...topics.map((t) => this.channel(t)));
    } catch (err) {
      this.opts.logger?.warn({ err, topics }, 'cache invalidations not subscribed; entries expire by TTL');
    }
  }
}

export const INVALIDATION_TOPICS = Object.freeze({
  /** key: user id */
  membership: 'membership',
  /** key: workspace id */
  agents: 'agents',
});
