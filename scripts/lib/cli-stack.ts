import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { closeRedisConnections } from '@raptorflow/core/redis/redis.factory';
import { createDatabase } from '@raptorflow/core/db/database';
import type { Knex } from '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';

/** What an operator command runs on: a small pool and a bus, closed together when the command ends. */
export async function withCliStack<T>(
  name: string,
  fn: (s: { db: Knex; bus: RaptorBus }) => Promise<T>,
): Promise<T> {
  const db = createDatabase({
    url: getSettings().databaseUrl,
    poolMax: 2,
    applicationName: `raptorflow-${name}-cli`,
  });
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  try {
    return await fn({ db, bus });
  } finally {
    await bus.close();
    await closeRedisConnections();
    await db.destroy();
  }
}
