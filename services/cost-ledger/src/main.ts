import { getSettings, runWorkerService, scrubSecrets } from '@raptorflow/shared';
import { createCostLedgerWorker } from './cost-ledger.worker';

runWorkerService({
  service: 'cost-ledger',
  port: getSettings().workerPorts.costLedger,
  start: () => [createCostLedgerWorker()],
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
