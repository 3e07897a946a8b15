import type { Knex } from 'knex';
import { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { createLogger } from '@raptorflow/core/logging/logger';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { SeederService } from '../../services/seeder/src/seeder.service';

/**
 * The seeder's service wired as its main.ts does. `publisher` defaults to a fresh client connection (closed
 * with the others by closeRedisConnections), as the seeder process opens one.
 */
export function seederService(db: Knex, publisher: Redis = createRedis('client')): SeederService {
  const logger = createLogger('seeder');
  return new SeederService({
    db,
    registry: new AgentRegistryService({ db }),
    audit: new AuditLogService({ db }),
    logger,
    invalidations: new InvalidationBus({ publisher, namespace: getSettings().queuePrefix, logger }),
  });
}
