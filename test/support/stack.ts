import type { Worker } from 'bullmq';
import type { Knex } from 'knex';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { closeRedisConnections, createRedis } from '@raptorflow/core/redis/redis.factory';
import { createDatabase } from '@raptorflow/core/db/database';
import { DeadLetterService } from '@raptorflow/events/worker/dead-letter.service';
import { getSettings } from '@raptorflow/core/config/settings';
import type { Redis } from '@raptorflow/core/redis/redis.factory';

/** Real PostgreSQL + Redis for one test file: this worker's database and this file's queue prefix. */
export interface TestStack {
  db: Knex;
  redis: Redis;
  bus: RaptorBus;
  prefix: string;
  /** Dead letters of this file's workers, written through `db`; drained by close() once the workers are closed. */
  deadLetters: DeadLetterService;
  close: (workers?: Worker[]) => Promise<void>;
}

export function openStack(): TestStack {
  const settings = getSettings();
  const db = createDatabase({ url: getSettings().databaseUrl, poolMax: 5 });
  const redis = createRedis('client');
  const bus = new RaptorBus({ db, prefix: settings.queuePrefix });
  const deadLetters = new DeadLetterService({ db });
  return {
    db,
    redis,
    bus,
    prefix: settings.queuePrefix,
    deadLetters,
    close: async (workers = []) => {
      await Promise.all(workers.map((w) => w.close()));
      await deadLetters.close();
      for (const name of QUEUE_NAMES)
        await bus
          .queue(name)
          .obliterate({ force: true })
          .catch(() => undefined);
      await bus.close();
      await closeRedisConnections();
      await db.destroy();
    },
  };
}
