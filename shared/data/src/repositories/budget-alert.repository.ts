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

/**
 * $1 workspace ids, $2 months (first day), $3 costs, one element per folded cost row in fold order; $4 default
 * budget, $5 thresholds. The batched fold's check, under the locks of every workspace-month in it: for each
 * threshold, the first cost row whose running month total (committed spend before this batch, plus the batch's
 * rows up to and including it) reaches it fires the alert with that total, exactly what folding the rows one
 * by one in this order would have recorded. `ord` (1-based) says which row crossed it.
 */
const EVALUATE_BATCH_STATEMENT = {
  name: 'raptorflow_budget_alerts_evaluate_batch_v1',
  text: `WITH ev AS (
     SELECT * FROM unnest($1::uuid[], $2::date[], $3::numeric[]) WITH ORDINALITY AS e(ws, month, cost, ord)
   ), run AS (
     SELECT ws, month, ord, sum(cost) OVER (PARTITION BY ws, month ORDER BY ord) AS upto,
            sum(cost) OVER (PARTITION BY ws, month) AS batch_total
     FROM ev
   ), totals AS (
     SELECT k.ws, k.month, s.spent, s.budget
     FROM (SELECT DISTINCT ws, month FROM ev) k
     CROSS JOIN LATERAL (${monthSpendAndBudgetSql('k.ws', 'k.month', '$4')}) s
   ), at AS (
     SELECT run.ws, run.month, run.ord, t.spent - run.batch_total + run.upto AS spent, t.budget
     FROM run JOIN totals t USING (ws, month)
   ), hit AS (
     SELECT DISTINCT ON (s.ws, s.month, th) s.ws, s.month, th, s.spent, s.budget, s.ord
     FROM at s, unnest($5::int[]) AS th
     WHERE ${reached('th')}
     ORDER BY s.ws, s.month, th, s.ord
   ), fired AS (
     INSERT INTO budget_alerts (workspace_id, month, threshold_percent, spent_usd, budget_usd)
     SELECT ws, month, th, spent, budget FROM hit ORDER BY ws, month, th
     ON CONFLICT (workspace_id, month, threshold_percent) DO NOTHING
     RETURNING id, workspace_id, month AS month_date, to_char(month, 'YYYY-MM') AS month, threshold_percent,
               spent_usd::text AS spent_usd, budget_usd::text AS budget_usd
   )
   SELECT f.id, f.workspace_id, f.month, f.threshold_percent, f.spent_usd, f.budget_usd, h.ord::int AS ord
   FROM fired f JOIN hit h ON h.ws = f.workspace_id AND h.month = f.month_date AND h.th = f.threshold_percent
   ORDER BY h.ord, f.threshold_percent`,
};

/** An alert as it fired: month 'YYYY-MM', amounts as exact decimal text. */
export type FiredAlertRow = Pick<
  BudgetAlertRow,
  'id' | 'workspace_id' | 'month' | 'threshold_percent' | 'spent_usd' | 'budget_usd'
>;

/**
 * The advisory lock id of one workspace-month, as SQL over a uuid and a date expression: one definition, so
 * the single lock below and the batched fold's locks (taken inside its statement) are the same lock.
 */
export function workspaceMonthLockIdSql(workspace: string, month: string): string {
  return `hashtext('ledger:' || (${workspace})::text || ':' || to_char(${month}, 'YYYY-MM'))`;
}

/**
 * Serialises everything that reads or changes one workspace's month of rollups (folds, alert checks, budget
 * changes, reconciliation), so "did this fold cross 80 %?" is always answered on committed totals.
 */
export async function lockWorkspaceMonth(
  trx: Knex.Transaction,
  workspaceId: string,
  month: string,
): Promise<void> {
  await trx.raw(`SELECT pg_advisory_xact_lock(${workspaceMonthLockIdSql('?::uuid', '?::date')})`, [
    workspaceId,
    `${month.slice(0, 7)}-01`,
  ]);
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

  /**
   * The batched fold's check (see EVALUATE_BATCH_STATEMENT): `events` are the newly folded cost rows in fold
   * order; the caller holds the lock of every workspace-month among them. Each fired alert says which event
   * (index into `events`) crossed it.
   */
  async fireReachedBatch(
    trx: Knex.Transaction,
    events: ReadonlyArray<{ workspaceId: string; month: string; costUsd: string }>,
    defaultBudget: string,
    thresholds: readonly number[],
  ): Promise<Array<FiredAlertRow & { index: number }>> {
    if (events.length === 0) return [];
    const { rows } = await runPrepared<FiredAlertRow & { ord: number }>(trx, EVALUATE_BATCH_STATEMENT, [
      events.map((e) => e.workspaceId),
      events.map((e) => e.month),
      events.map((e) => e.costUsd),
      defaultBudget,
      [...thresholds],
    ]);
    return rows.map(({ ord, ...a }) => ({ ...a, index: ord - 1 }));
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
