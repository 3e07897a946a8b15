// First: tracing must start before the modules it instruments are loaded.
import { tracing } from './tracing.bootstrap';
import { getSettings } from '@raptorflow/core/config/settings';
import { getDatabase } from '@raptorflow/core/db/database';
import { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { workerOptionsFor } from '@raptorflow/events/worker/worker-settings';
import { startupModelRouter } from '@raptorflow/llm/model-router.factory';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { SeederService } from './seeder.service';
import { createSeederWorkers } from './seeder.worker';

// The composition root: every object of this process is built here, with its dependencies spelled out.
const settings = getSettings();
const logger = createLogger('seeder');

runWorkerService({
  tracing,
  service: 'seeder',
  port: settings.workerPorts.seeder,
  models: () => startupModelRouter(settings.llm, logger),
  start: (runtime) => {
    const db = getDatabase();
    const service = new SeederService({
      db,
      registry: new AgentRegistryService({ db }),
      audit: new AuditLogService({ db }),
      logger,
      invalidations: new InvalidationBus({
        publisher: createRedis('client'),
        namespace: settings.queuePrefix,
        logger,
      }),
    });
    return createSeederWorkers(service, { ...runtime, ...workerOptionsFor('seeder', settings) });
  },
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
