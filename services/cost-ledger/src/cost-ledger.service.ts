import type { Knex } from 'knex';
import { BudgetAlertService, lockWorkspaceMonth } from '@raptorflow/llm/budget-alerts.service';
import { createLogger } from '@raptorflow/core/logging/logger';
import { getDatabase } from '@raptorflow/core/db/database';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { runPrepared } from '@raptorflow/core/db/prepared';
import type { FiredAlert } from '@raptorflow/llm/budget-alerts.service';
import type { Logger } from '@raptorflow/core/logging/logger';

/** Claims the cost row ($1) and bumps both rollups: two different rows, so one statement may do both. */
const FOLD_STATEMENT = {
  name: 'raptorflow_ledger_fold_v1',
  text: `WITH src AS (
     SELECT id, workspace_id, model, input_tokens, output_tokens, cached_input_tokens, thinking_tokens,
            cost_usd, created_at AT TIME ZONE 'UTC' AS t
     FROM cost_logs WHERE id = $1
   ), claim AS (
     INSERT INTO cost_rollup_folds (cost_log_id, workspace_id) SELECT id, workspace_id FROM src
     ON CONFLICT (cost_log_id) DO NOTHING RETURNING cost_log_id
   ), bump AS (
     INSERT INTO cost_rollups AS r (workspace_id, period, period_start, model, calls, input_tokens,
                                    output_tokens, cached_input_tokens, thinking_tokens, spent_usd, updated_at)
     SELECT workspace_id, p.period, date_trunc(p.period, t)::date, model, 1, input_tokens, output_tokens,
            cached_input_tokens, thinking_tokens, cost_usd, now()
     FROM src, (VALUES ('month'), ('day')) AS p(period)
     WHERE EXISTS (SELECT 1 FROM claim)
     ON CONFLICT (workspace_id, period, period_start, model) DO UPDATE SET
       calls = r.calls + 1,
       input_tokens = r.input_tokens + EXCLUDED.input_tokens,
       output_tokens = r.output_tokens + EXCLUDED.output_tokens,
       cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
       thinking_tokens = r.thinking_tokens + EXCLUDED.thinking_tokens,
       spent_usd = r.spent_usd + EXCLUDED.spent_usd,
       updated_at = now()
     RETURNING 1
   )
   SELECT workspace_id, date_trunc('month', t)::date::text AS month,
          EXISTS (SELECT 1 FROM claim) AS claimed, (SELECT count(*) FROM bump) AS bumped
   FROM src`,
};

export interface CostLedgerServiceOptions {
  db?: Knex;
  alerts?: BudgetAlertService;
  logger?: Logger;
}

/**
 * Folds cost rows into the workspace × month × model and workspace × day × model rollups (UTC calendar).
 * A `cost_rollup_folds` row is claimed in the same transaction as the increments, so a redelivered
 * `cost.recorded` event folds nothing twice; the month's budget thresholds are checked on the new totals.
 */
export class CostLedgerService {
  private readonly db: Knex;
  private readonly alerts: BudgetAlertService;
  private readonly logger: Logger;

  constructor(opts: CostLedgerServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.alerts = opts.alerts ?? new BudgetAlertService({ db: this.db });
    this.logger = opts.logger ?? createLogger('cost-ledger');
  }

  async fold(costLogId: string): Promise<{ folded: boolean; alerts: FiredAlert[] }> {
    const result = await this.db.transaction(async (trx) => {
      const { rows } = await runPrepared<{ workspace_id: string; month: string; claimed: boolean }>(
        trx,
        FOLD_STATEMENT,
        [costLogId],
      );
      const row = rows[0];
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
