import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { CURRENT_MONTH_SQL, monthSpendAndBudgetSql } from './budget-sql';
import type { BudgetAlertRow } from './cost.rows';

/** Whether the spend `s.spent` has reached `threshold` % of `s.budget` (a zero budget: any spend does). */
const reached = (threshold: string) => `s.spent > 0 AND s.spent * 100 >= ${threshold} * s.budget`;

/** $1 workspace, $2 month (first day), $3 default budget, $4 thresholds: inserts the newly crossed ones. */
const EVALUATE_STATEMENT = {
  name: 'raptorflow_budget_alerts_evaluate_v1',
  text: `WITH s AS (${monthSpendAndBudgetSql('$1', '$2', '$3')})
   INSERT INTO budget_alerts (workspace_id, month, threshold_percent, spent_usd, budget_usd)
   SELECT $1, $2::date, t, s.spent, s.budget
   FROM s, unnest($4::int[]) AS t
   WHERE ${reached('t')}
   ON CONFLICT (workspace_id, month, threshold_percent) DO NOTHING
   RETURNING id, workspace_id, to_char(month, 'YYYY-MM') AS month, threshold_percent,
             spent_usd::text AS spent_usd, budget_usd::text AS budget_usd`,
};

/** An alert as it fired: month 'YYYY-MM', amounts as exact decimal text. */
export type FiredAlertRow = Pick<
  BudgetAlertRow,
  'id' | 'workspace_id' | 'month' | 'threshold_percent' | 'spent_usd' | 'budget_usd'
>;

/**
 * Serialises everything that reads or changes one workspace's month of rollups (folds, alert checks, budget
 * changes, reconciliation), so "did this fold cross 80 %?" is always answered on committed totals.
 */
export async function lockWorkspaceMonth(
  trx: Knex.Transaction,
  workspaceId: string,
  month: string,
): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`ledger:${workspaceId}:${month.slice(0, 7)}`]);
}

/** All SQL of `budget_alerts`: firing (once per threshold and month), re-arming, delivery state, listing. */
export class BudgetAlertRepository {
  constructor(private readonly db: Knex) {}

  /** Inserts the thresholds the month's spend newly reached; the caller holds lockWorkspaceMonth. */
  async fireReached(
    trx: Knex.Transaction,
    workspaceId: string,
    month: string,
    defaultBudget: string,
    thresholds: readonly number[],
  ): Promise<FiredAlertRow[]> {
    const { rows } = await runPrepared<FiredAlertRow>(trx, EVALUATE_STATEMENT, [
      workspaceId,
      month,
      defaultBudget,
      [...thresholds],
    ]);
    return rows;
  }

  /** Forgets this month's alerts the spend no longer reaches (under the month lock); returns their thresholds. */
  async rearm(trx: Knex.Transaction, workspaceId: string, defaultBudget: string): Promise<number[]> {
    const { rows } = await trx.raw<{ rows: Array<{ month: string }> }>(
      `SELECT ${CURRENT_MONTH_SQL}::text AS month`,
    );
    const month = rows[0]!.month;
    await lockWorkspaceMonth(trx, workspaceId, month);
    const { rows: removed } = await trx.raw<{ rows: Array<{ threshold_percent: number }> }>(
      `WITH s AS (${monthSpendAndBudgetSql(':ws', ':month', ':default')})
       DELETE FROM budget_alerts a USING s
       WHERE a.workspace_id = :ws AND a.month = :month::date AND NOT (${reached('a.threshold_percent')})
       RETURNING a.threshold_percent`,
      { ws: workspaceId, month, default: defaultBudget },
    );
    return removed.map((r) => r.threshold_percent).sort((a, b) => a - b);
  }

  async deliveryState(id: string): Promise<Pick<BudgetAlertRow, 'delivered_at'> | undefined> {
    return this.db('budget_alerts').where({ id }).first('delivered_at');
  }

  async recordDelivery(id: string, error: string | undefined): Promise<void> {
    await this.db('budget_alerts')
      .where({ id })
      .update({
        delivery_attempts: this.db.raw('delivery_attempts + 1'),
        last_delivery_error: error ?? null,
        ...(error ? {} : { delivered_at: this.db.fn.now() }),
      });
  }

  async listForMonth(
    workspaceId: string,
    month: string,
  ): Promise<
    Array<
      Pick<BudgetAlertRow, 'threshold_percent' | 'spent_usd' | 'budget_usd' | 'created_at' | 'delivered_at'>
    >
  > {
    return this.db('budget_alerts')
      .where({ workspace_id: workspaceId, month })
      .orderBy('threshold_percent')
      .select('threshold_percent', 'spent_usd', 'budget_usd', 'created_at', 'delivered_at');
  }
}
