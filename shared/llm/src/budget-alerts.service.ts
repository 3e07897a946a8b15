import type { Knex } from 'knex';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { getDatabase } from '@raptorflow/core/db/database';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { CURRENT_MONTH_SQL, monthSpendAndBudgetSql } from '@raptorflow/data/costs/budget-sql';

/** Alerts fire when a month's spend reaches these percentages of the budget. */
export const ALERT_THRESHOLDS: readonly number[] = [50, 80, 100];

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

export interface FiredAlert {
  id: string;
  workspace_id: string;
  month: string;
  threshold_percent: number;
  spent_usd: string;
  budget_usd: string;
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
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`ledger:${workspaceId}:${month.slice(0, 7)}`]);
}

export interface BudgetAlertOptions {
  db?: Knex;
  bus?: RaptorBus;
  audit?: AuditLogService;
  defaultBudgetUsd?: number;
}

/**
 * Budget thresholds (issue: "each fires exactly once per month per workspace, even with many workers"). The
 * unique (workspace, month, threshold) row is the "fired" flag; inserting it, its audit row and the
 * `budget.alert.fired` event happen in the caller's transaction, so an alert is never half-fired.
 */
export class BudgetAlertService {
  private readonly db: Knex;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;
  private readonly defaultBudget: string;

  constructor(opts: BudgetAlertOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.bus = opts.bus ?? getBus();
    this.audit = opts.audit ?? new AuditLogService({ db: this.db });
    this.defaultBudget = (opts.defaultBudgetUsd ?? getSettings().monthlyWorkspaceBudgetUsd).toFixed(6);
  }

  /** `month` is the first day (YYYY-MM-01). The caller holds lockWorkspaceMonth. */
  async evaluate(trx: Knex.Transaction, workspaceId: string, month: string): Promise<FiredAlert[]> {
    const { rows } = await runPrepared<FiredAlert>(trx, EVALUATE_STATEMENT, [
      workspaceId,
      month,
      this.defaultBudget,
      [...ALERT_THRESHOLDS],
    ]);
    for (const a of rows) {
      await this.audit.record(
        {
          action: 'budget.alert_fired',
          workspaceId,
          actorType: 'system',
          actorId: null,
          resourceType: 'budget_alert',
          resourceId: a.id,
          output: {
            month: a.month,
            threshold_percent: a.threshold_percent,
            spent_usd: a.spent_usd,
            budget_usd: a.budget_usd,
          },
        },
        trx,
      );
      await this.bus.publish(
        'budget.alert.fired',
        {
          alert_id: a.id,
          month: a.month,
          threshold_percent: a.threshold_percent,
          spent_usd: trimDecimal(a.spent_usd),
          budget_usd: trimDecimal(a.budget_usd),
        },
        { trx, workspaceId },
      );
    }
    return rows;
  }

  /**
   * After a budget change: this month's alerts whose threshold the spend no longer reaches are forgotten, so
   * they fire again when the spend gets there (a raised budget re-arms the thresholds above the spend).
   */
  async rearm(trx: Knex.Transaction, workspaceId: string): Promise<number[]> {
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
      { ws: workspaceId, month, default: this.defaultBudget },
    );
    return removed.map((r) => r.threshold_percent).sort((a, b) => a - b);
  }
}

/** "40.5000000000" → "40.5": the event schema takes plain decimals. */
function trimDecimal(v: string): string {
  return v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
}
