import { Cluster, Redis as RedisNode } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { getSettings } from '../config/settings';
import type { RedisClusterSettings, Settings } from '../config/settings';

/**
 * A connection to the one Redis (REDIS_URL) or to a Redis Cluster (REDIS_CLUSTER_NODES). Both speak the same
 * commands; BullMQ, pub/sub and EVALSHA work on either as long as a script's keys share a slot (hash tags).
 */
export type Redis = RedisNode | Cluster;

/** Where to connect: a redis:// or rediss:// URL, or a cluster's seeds. */
export type RedisTarget = string | RedisClusterSettings;

/**
 * - producer: commands fail fast while Redis is down (the caller has a fallback, e.g. the outbox);
 * - worker: blocking commands wait for Redis to come back, as BullMQ requires (maxRetriesPerRequest null);
 * - client: ad-hoc commands (health pings, rate limits) that must answer quickly or not at all.
 * Never an ioredis keyPrefix: BullMQ namespaces keys with its own `prefix`.
 */
export type RedisRole = 'producer' | 'worker' | 'client';

const open = new Set<Redis>();

// Reconnect forever with a capped backoff; a worker outlives any Redis restart.
const backoff = (times: number) => Math.min(200 * 2 ** Math.min(times, 6), 5_000);

/** The process's Redis: the cluster when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
export function redisTargetOf(settings: Pick<Settings, 'redisUrl' | 'redisCluster'>): RedisTarget {
  return settings.redisCluster ?? settings.redisUrl;
}

/** Per-connection options of a role (for a cluster: the options of each node connection). */
export function redisOptionsFor(role: RedisRole, url: string): RedisOptions {
  return roleOptions(role, url.startsWith('rediss://'));
}

function roleOptions(role: RedisRole, tls: boolean): RedisOptions {
  const base: RedisOptions = {
    connectionName: `raptorflow-${role}`,
    // Closing a client that is between reconnect attempts otherwise keeps the process alive for 2 s.
    disconnectTimeout: 200,
    retryStrategy: backoff,
    ...(tls ? { tls: {} } : {}),
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

/**
 * Cluster client options of a role. Node connections never reconnect by themselves in ioredis (a dead
 * master is replaced through the slot map), so the backoff goes to clusterRetryStrategy. The offline queue
 * stays on for every role: during a failover the client holds commands until the slot map names the new
 * master (retryDelayOnFailover / ClusterDown), and the callers' own timeouts (the bus's 3 s, the rate
 * limiter's 1 s) still bound how long a producer or client waits.
 */
export function clusterOptionsFor(role: RedisRole, cluster: RedisClusterSettings): ClusterOptions {
  const { retryStrategy: _perNode, enableAutoPipelining, ...node } = roleOptions(role, cluster.tls);
  return {
    redisOptions: { ...node, ...(cluster.password ? { password: cluster.password } : {}) },
    clusterRetryStrategy: backoff,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    // Replicas lag their master: every read goes to the master, as with a single Redis.
    scaleReads: 'master',
    enableAutoPipelining: enableAutoPipelining ?? false,
    // A failover promotes a replica within cluster-node-timeout; poll the slot map meanwhile.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    maxRedirections: 32,
    slotsRefreshTimeout: 2_000,
  };
}

export function createRedis(role: RedisRole, target: RedisTarget = redisTargetOf(getSettings())): Redis {
  const client: Redis =
    typeof target === 'string'
      ? new RedisNode(target, redisOptionsFor(role, target))
      : new Cluster(
          target.nodes.map((n) => ({ host: n.host, port: n.port })),
          clusterOptionsFor(role, target),
        );
  // An unhandled 'error' event would crash the process; reconnection is handled by the retry strategies.
  client.on('error', () => undefined);
  open.add(client);
  client.once('end', () => open.delete(client));
  return client;
}

/**
 * Answers when Redis can serve: PING for a single Redis; for a cluster, CLUSTER INFO of a node must say
 * `cluster_state:ok` (every slot has a reachable master), since a PING would only prove one node alive.
 */
export async function checkRedis(client: Redis): Promise<void> {
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const info = await client.cluster('INFO');
  if (!/^cluster_state:ok\b/m.test(info)) throw new Error('cluster_state is not ok');
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
