import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { getSettings } from '../config/settings';

export type { Redis } from 'ioredis';

/**
 * - producer: commands fail fast while Redis is down (the caller has a fallback, e.g. the outbox);
 * - worker: blocking commands wait for Redis to come back, as BullMQ requires (maxRetriesPerRequest null);
 * - client: ad-hoc commands (health pings, rate limits) that must answer quickly or not at all.
 * Never an ioredis keyPrefix: BullMQ namespaces keys with its own `prefix`.
 */
export type RedisRole = 'producer' | 'worker' | 'client';

const open = new Set<Redis>();

export function redisOptionsFor(role: RedisRole, url: string): RedisOptions {
  const base: RedisOptions = {
    connectionName: `raptorflow-${role}`,
    // Closing a client that is between reconnect attempts otherwise keeps the process alive for 2 s.
    disconnectTimeout: 200,
    // Reconnect forever with a capped backoff; a worker outlives any Redis restart.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    ...(url.startsWith('rediss://') ? { tls: {} } : {}),
  };
  if (role === 'worker') return { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true };
  // Auto-pipelining batches the commands of one event-loop tick into one write: under load the rate limiter's
  // per-request scripts then cost a fraction of a round trip each.
  return {
    ...base,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    ...(role === 'client' ? { enableAutoPipelining: true } : {}),
  };
}

export function createRedis(role: RedisRole, url: string = getSettings().redisUrl): Redis {
  const client = new Redis(url, redisOptionsFor(role, url));
  // An unhandled 'error' event would crash the process; reconnection is handled by retryStrategy.
  client.on('error', () => undefined);
  open.add(client);
  client.once('end', () => open.delete(client));
  return client;
}

/** Closes every connection this process opened (graceful shutdown, test teardown). */
export async function closeRedisConnections(): Promise<void> {
  const clients = [...open];
  open.clear();
  await Promise.all(
    clients.map(async (c) => {
      try {
        if (c.status === 'ready') await c.quit();
        else c.disconnect();
      } catch {
        c.disconnect();
      }
    }),
  );
}
