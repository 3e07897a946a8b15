import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { ModelRouter, warnAboutRetirements } from '@raptorflow/llm/model-router';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { AlertWebhookService } from './alert-webhook.service';
import { CostLedgerService } from './cost-ledger.service';
import { createCostLedgerWorker, createNotifyWorker } from './cost-ledger.worker';
import { LedgerReconciler } from './ledger-reconciler.service';

const settings = getSettings();

runWorkerService({
  service: 'cost-ledger',
  port: settings.workerPorts.costLedger,
  models: () => {
    const router = new ModelRouter({ settings: getSettings().llm });
    warnAboutRetirements(router, createLogger('cost-ledger'));
    return router;
  },
  start: async () => {
    const every = settings.ledger.reconcileIntervalMs;
    const queue = getBus().queue('cost');
    // One scheduler, whatever the number of ledger processes: upserting the same id is idempotent.
    if (every > 0)
      await queue.upsertJobScheduler(
        'ledger-reconcile',
        { every },
        {
          name: 'ledger.reconcile.requested',
          data: buildEnvelope('ledger.reconcile.requested', {}, { workspaceId: null }),
        },
      );
    else await queue.removeJobScheduler('ledger-reconcile');
    return [
      createCostLedgerWorker(new CostLedgerService(), { reconciler: new LedgerReconciler() }),
      createNotifyWorker(new AlertWebhookService()),
    ];
  },
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
