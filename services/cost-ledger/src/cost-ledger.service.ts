import type { Knex } from 'knex';
import {
  BudgetAlertService,
  createLogger,
  getDatabase,
  getMetrics,
  lockWorkspaceMonth,
} from '@raptorflow/shared';
import type { FiredAlert, Logger } from '@raptorflow/shared';

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
      const { rows } = await trx.raw<{ rows: Array<{ workspace_id: string; month: string }> }>(
        `SELECT workspace_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date::text AS month
         FROM cost_logs WHERE id = ?`,
        [costLogId],
      );
      const row = rows[0];
      if (!row) return { folded: false, alerts: [] };
      await lockWorkspaceMonth(trx, row.workspace_id, row.month);
      const claimed = await trx.raw<{ rows: unknown[] }>(
        `INSERT INTO cost_rollup_folds (cost_log_id, workspace_id) VALUES (?, ?)
         ON CONFLICT (cost_log_id) DO NOTHING RETURNING cost_log_id`,
        [costLogId, row.workspace_id],
      );
      if (claimed.rows.length === 0) return { folded: false, alerts: [] };
      for (const period of ['month', 'day'] as const) {
        await trx.raw(
          `INSERT INTO cost_rollups (workspace_id, period, period_start, model, calls, input_tokens, output_tokens,
                                     cached_input_tokens, thinking_tokens, spent_usd, updated_at)
           SELECT workspace_id, ?, date_trunc(?, created_at AT TIME ZONE 'UTC')::date, model, 1, input_tokens,
                  output_tokens, cached_input_tokens, thinking_tokens, cost_usd, now()
           FROM cost_logs WHERE id = ?
           ON CONFLICT (workspace_id, period, period_start, model) DO UPDATE SET
             calls = cost_rollups.calls + 1,
             input_tokens = cost_rollups.input_tokens + EXCLUDED.input_tokens,
             output_tokens = cost_rollups.output_tokens + EXCLUDED.output_tokens,
             cached_input_tokens = cost_rollups.cached_input_tokens + EXCLUDED.cached_input_tokens,
             thinking_tokens = cost_rollups.thinking_tokens + EXCLUDED.thinking_tokens,
             spent_usd = cost_rollups.spent_usd + EXCLUDED.spent_usd,
             updated_at = now()`,
          [period, period, costLogId],
        );
      }
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
