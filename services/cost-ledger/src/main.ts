// First: tracing must start before the modules it instruments are loaded.
import { tracing } from './tracing.bootstrap';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { getDatabase } from '@raptorflow/core/db/database';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { workerOptionsFor } from '@raptorflow/events/worker/worker-settings';
import { startupModelRouter } from '@raptorflow/llm/model-router.factory';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { AlertWebhookService } from './alert-webhook.service';
import { CostLedgerService } from './cost-ledger.service';
import { createCostLedgerWorker, createNotifyWorker } from './cost-ledger.worker';
import { LedgerReconciler } from './ledger-reconciler.service';
import { BUDGET_UTILISATION_TOP_N, registerBudgetUtilisation } from '@raptorflow/core/metrics/scrape-gauges';

// The composition root: every object of this process is built here, with its dependencies spelled out.
const settings = getSettings();
const db = getDatabase();
const bus = getBus();
const logger = createLogger('cost-ledger');

runWorkerService({
  tracing,
  service: 'cost-ledger',
  port: settings.workerPorts.costLedger,
  models: () => startupModelRouter(settings.llm, logger),
  start: async (runtime) => {
    const every = settings.ledger.reconcileIntervalMs;
    const queue = bus.queue('cost');
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
    const audit = new AuditLogService({ db });
    const alerts = new BudgetAlertService({
      db,
      bus,
      audit,
      defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
    });
    const budgets = new BudgetLedgerService({
      db,
      defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
      reservationTtlMs: settings.llm.reservationTtlMs,
    });
    // Workspace ids appear only here, on the internal health port, and only the top N of them.
    registerBudgetUtilisation(() => budgets.topUtilisation(BUDGET_UTILISATION_TOP_N));
    const reconciler = new LedgerReconciler({ db, audit, alerts, budgets, logger });
    const webhooks = new AlertWebhookService({
      db,
      url: settings.ledger.alertWebhookUrl,
      secret: settings.secretKey,
      timeoutMs: settings.ledger.alertWebhookTimeoutMs,
      blockPrivateAddresses: settings.isProduction,
      logger,
    });
    const options = { ...runtime, ...workerOptionsFor('costLedger', settings) };
    return [
      createCostLedgerWorker(new CostLedgerService({ db, alerts, logger }), { ...options, reconciler }),
      // Webhook deliveries are rare and slow: the fold batch size is no reason to hold 256 of them at once.
      createNotifyWorker(webhooks, { ...options, concurrency: Math.min(options.concurrency ?? 8, 8) }),
    ];
  },
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
