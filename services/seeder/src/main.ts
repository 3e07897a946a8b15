import { getSettings } from '@raptorflow/core/config/settings';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { ModelRouter, warnAboutRetirements } from '@raptorflow/llm/model-router';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { createSeederWorkers } from './seeder.worker';

runWorkerService({
  service: 'seeder',
  port: getSettings().workerPorts.seeder,
  models: () => {
    const router = new ModelRouter({ settings: getSettings().llm });
    warnAboutRetirements(router, createLogger('seeder'));
    return router;
  },
  start: () => createSeederWorkers(),
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
