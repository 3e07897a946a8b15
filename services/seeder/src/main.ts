import { getSettings, runWorkerService, scrubSecrets } from '@raptorflow/shared';
import { createSeederWorkers } from './seeder.worker';

runWorkerService({
  service: 'seeder',
  port: getSettings().workerPorts.seeder,
  start: () => createSeederWorkers(),
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
