import type { Knex } from 'knex';
import type { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { lockWorkspaceMonth } from '@raptorflow/data/repositories/budget-alert.repository';
import { CostRollupRepository } from '@raptorflow/data/repositories/cost-rollup.repository';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { FiredAlert } from '@raptorflow/llm/budget-alerts.service';
import type { Logger } from '@raptorflow/core/logging/logger';

export interface CostLedgerServiceOptions {
  db: Knex;
  alerts: BudgetAlertService;
  logger: Logger;
}

/**
 * Folds cost rows into the workspace × month × model and workspace × day × model rollups (UTC calendar).
 * A `cost_rollup_folds` row is claimed in the same transaction as the increments, so a redelivered
 * `cost.recorded` event folds nothing twice; the month's budget thresholds are checked on the new totals.
 */
export class CostLedgerService {
  private readonly db: Knex;
  private readonly rollups: CostRollupRepository;
  private readonly alerts: BudgetAlertService;
  private readonly logger: Logger;

  constructor(opts: CostLedgerServiceOptions) {
    this.db = opts.db;
    this.rollups = new CostRollupRepository(opts.db);
    this.alerts = opts.alerts;
    this.logger = opts.logger;
  }

  async fold(costLogId: string): Promise<{ folded: boolean; alerts: FiredAlert[] }> {
    const result = await this.db.transaction(async (trx) => {
      const row = await this.rollups.fold(trx, costLogId);
      if (!row?.claimed) return { folded: false, alerts: [] };
      // The lock comes after the increments on purpose: whichever fold of this workspace-month takes it last
      // reads (in a fresh snapshot) every increment committed before, its own included, so no crossing of a
      // threshold is missed however folds interleave.
      await lockWorkspaceMonth(trx, row.workspace_id, row.month);
      return { folded: true, alerts: await this.alerts.evaluate(trx, row.workspace_id, row.month) };
    });
    for (const a of result.alerts) {
      getMetrics().budgetAlertsTotal.inc({ threshold: String(a.threshold_percent) });
      this.logger.warn(
        {
          workspace_id: a.workspace_id,
          month: a.month,
          threshold_percent: a.threshold_percent,
          spent_usd: a.spent_usd,
          budget_usd: a.budget_usd,
        },
        `budget alert: ${a.threshold_percent}% of the month budget reached`,
      );
    }
    return result;
  }
}
