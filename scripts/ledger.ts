// npm run ledger -- reconcile [--month YYYY-MM] [--json]
//   Recomputes the rollups of that UTC month (default: this one and the last) from cost_logs, corrects and
//   reports every drift, and reclaims expired budget reservations — what the hourly job does, on demand.
// Uses DATABASE_URL (and QUEUE_PREFIX/REDIS_URL for the alerts a correction may fire) like the services.
import { parseArgs } from 'node:util';
import { withCliStack } from './lib/cli-stack';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { createLogger } from '@raptorflow/core/logging/logger';
import { LedgerReconciler } from '../services/cost-ledger/src/ledger-reconciler.service';
import { getSettings } from '@raptorflow/core/config/settings';

const USAGE = 'usage: npm run ledger -- reconcile [--month YYYY-MM] [--json]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      month: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'reconcile') {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month)) {
    process.stderr.write(`--month must be YYYY-MM\n${USAGE}\n`);
    return 2;
  }
  return withCliStack('ledger', async ({ db, bus }) => {
    const settings = getSettings();
    const audit = new AuditLogService({ db });
    const reconciler = new LedgerReconciler({
      db,
      audit,
      alerts: new BudgetAlertService({
        db,
        bus,
        audit,
        defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
      }),
      budgets: new BudgetLedgerService({
        db,
        defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
        reservationTtlMs: settings.llm.reservationTtlMs,
      }),
      logger: createLogger('ledger-cli'),
    });
    const r = await reconciler.reconcile({ month: values.month });
    if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(`reconciled ${r.months.join(', ')}: ${r.corrections.length} correction(s), `);
      process.stdout.write(`${r.reclaimedReservations} expired reservation(s) reclaimed\n`);
      for (const c of r.corrections)
        process.stdout.write(
          `  ${c.period} ${c.period_start} ${c.model ?? '-'} ws ${c.workspace_id}: ` +
            `${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}\n`,
        );
    }
    return 0;
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
