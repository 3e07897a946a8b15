import { z } from 'zod';
import { booleanish, isTrue, optionalString } from './env-parsers';

// The Redis Cluster part of the configuration: REDIS_CLUSTER_NODES selects cluster mode for every service.

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface RedisClusterSettings {
  /** Seed nodes: the client asks any of them for the slot map, then talks to every master it names. */
  nodes: readonly RedisClusterNode[];
  /** REDIS_CLUSTER_TLS: TLS to every node (a cluster has no URL whose scheme could say so). */
  tls: boolean;
  /** REDIS_PASSWORD: the nodes' `requirepass` (a cluster has no URL to carry it). */
  password: string | undefined;
}

// host:port, host a name, an IPv4 address or a bracketed IPv6 address ([::1]:7000).
const SEED = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;

const clusterNodes = optionalString.transform((raw, ctx): RedisClusterNode[] | undefined => {
  if (raw === undefined) return undefined;
  const nodes: RedisClusterNode[] = [];
  for (const seed of raw.split(',').map((s) => s.trim())) {
    const m = SEED.exec(seed);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65_535) {
      ctx.addIssue({
        code: 'custom',
        message: `"${seed}" is not a host:port seed (comma-separated, e.g. redis-1:6379,redis-2:6379)`,
      });
      return z.NEVER;
    }
    nodes.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
});

export const redisEnvShape = {
  REDIS_CLUSTER_NODES: clusterNodes,
  REDIS_CLUSTER_TLS: booleanish,
  REDIS_PASSWORD: optionalString,
};

interface RedisEnv {
  REDIS_CLUSTER_NODES?: RedisClusterNode[] | undefined;
  REDIS_CLUSTER_TLS?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
}

export function buildRedisCluster(e: RedisEnv): RedisClusterSettings | undefined {
  if (!e.REDIS_CLUSTER_NODES) return undefined;
  return {
    nodes: e.REDIS_CLUSTER_NODES,
    tls: isTrue(e.REDIS_CLUSTER_TLS, false),
    password: e.REDIS_PASSWORD,
  };
}

/**
 * The hash tag Redis Cluster hashes a key by: what lies between the first `{` and the first `}` after it,
 * when that is not empty (else the whole key is hashed). Undefined when the key has none.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * Cluster-mode problems: BullMQ's Lua scripts touch several keys of a queue at once, which a cluster only
 * allows within one slot, so the prefix must carry a hash tag. Production also wants TLS to every node.
 */
export function redisClusterProblems(
  cluster: RedisClusterSettings | undefined,
  queuePrefix: string,
  isProduction: boolean,
): string[] {
  if (!cluster) return [];
  const problems: string[] = [];
  if (hashTagOf(queuePrefix) === undefined)
    problems.push(
      `QUEUE_PREFIX must contain a Redis Cluster hash tag such as {raptorflow} when REDIS_CLUSTER_NODES is set (got "${queuePrefix}"): BullMQ's scripts need every key of a queue in one slot`,
    );
  if (isProduction && !cluster.tls)
    problems.push('REDIS_CLUSTER_TLS must be true in production (TLS to every node of REDIS_CLUSTER_NODES)');
  return problems;
}
