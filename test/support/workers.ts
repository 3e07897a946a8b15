import { getSettings } from '@raptorflow/core/config/settings';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { DeadLetterService } from '@raptorflow/events/worker/dead-letter.service';
import type { CreateWorkerOptions } from '@raptorflow/events/worker/worker-runtime';
import { workerOptionsFor } from '@raptorflow/events/worker/worker-settings';
import type { WorkerService } from '@raptorflow/events/worker/worker-settings';

/**
 * Worker options wired as runWorkerService and the services' main.ts do: the queue prefix, a Redis connection
 * of its own per worker (closed by closeRedisConnections), the given dead-letter service and, for a service's
 * workers, that service's configured tuning; `overrides` (concurrency, prefix, ...) win.
 */
export function workerOptions(
  target: { prefix: string; deadLetters: DeadLetterService },
  service?: WorkerService,
  overrides: Partial<CreateWorkerOptions> = {},
): CreateWorkerOptions {
  return {
    prefix: target.prefix,
    connection: () => createRedis('worker'),
    deadLetters: target.deadLetters,
    ...(service ? workerOptionsFor(service, getSettings()) : {}),
    ...overrides,
  };
}
