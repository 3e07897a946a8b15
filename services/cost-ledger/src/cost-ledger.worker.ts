import type { Worker } from 'bullmq';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/events/worker/worker-runtime';
import type { AlertWebhookService } from './alert-webhook.service';
import type { CostLedgerService } from './cost-ledger.service';
import type { LedgerReconciler } from './ledger-reconciler.service';

/** The `cost` queue: folds and reconciliation. */
export function createCostLedgerWorker(
  service: CostLedgerService,
  opts: CreateWorkerOptions & { reconciler?: LedgerReconciler },
): Worker {
  const handleCostRecorded: EventHandler<'cost.recorded'> = (payload) => service.fold(payload.cost_log_id);
  const handleReconcileRequested: EventHandler<'ledger.reconcile.requested'> = async (payload) => {
    if (!opts.reconciler) throw new Error('this worker was built without a reconciler');
    const r = await opts.reconciler.reconcile({ month: payload.month });
    return { months: r.months, corrections: r.corrections.length, reclaimed: r.reclaimedReservations };
  };
  return createWorker(
    'cost',
    { 'cost.recorded': handleCostRecorded, 'ledger.reconcile.requested': handleReconcileRequested },
    opts,
  );
}

/** The `notify` queue: budget alert webhooks, apart from folding so a dead receiver never slows it. */
export function createNotifyWorker(webhooks: AlertWebhookService, opts: CreateWorkerOptions): Worker {
  const handleBudgetAlertFired: EventHandler<'budget.alert.fired'> = (payload, { envelope }) =>
    webhooks.deliver(payload, envelope.workspace_id);
  return createWorker('notify', { 'budget.alert.fired': handleBudgetAlertFired }, opts);
}
