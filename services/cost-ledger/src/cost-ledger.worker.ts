import type { Worker } from 'bullmq';
import { createWorker, workerOptionsFor } from '@raptorflow/shared';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/shared';
import { CostLedgerService } from './cost-ledger.service';

export function createCostLedgerWorker(
  service = new CostLedgerService(),
  opts: CreateWorkerOptions = {},
): Worker {
  const handleCostRecorded: EventHandler<'cost.recorded'> = (payload) => service.fold(payload.cost_log_id);
  return createWorker(
    'cost',
    { 'cost.recorded': handleCostRecorded },
    { ...workerOptionsFor('costLedger'), ...opts },
  );
}
