import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { CURRENT_MONTH_SQL, budgetOfSql } from './budget-sql';
import { FINISH_BATCH_STATEMENT, RESERVE_BATCH_STATEMENT } from './budget-batch.statements';
import type { WorkspaceBudgetRow } from './cost.rows';

/** $1 workspace, $2 default budget, $3 amount, $4 model, $5 agent run, $6 correlation id, $7 TTL ms. */
const RESERVE_STATEMENT = {
  name: 'raptorflow_budget_reserve_v1',
  text: `WITH b AS (
           SELECT ${budgetOfSql('$1', '$2')} AS budget
         ), up AS (
           INSERT INTO budget_usage AS u (workspace_id, month, reserved_usd)
           SELECT $1, ${CURRENT_MONTH_SQL}, $3::numeric FROM b WHERE $3::numeric <= b.budget
           ON CONFLICT (workspace_id, month) DO UPDATE
             SET reserved_usd = u.reserved_usd + EXCLUDED.reserved_usd, updated_at = now()
             WHERE u.spent_usd + u.reserved_usd + EXCLUDED.reserved_usd <= (SELECT budget FROM b)
           RETURNING u.workspace_id, u.month
         )
         INSERT INTO budget_reservations (workspace_id, month, amount_usd, model, agent_run_id, correlation_id,
                                          expires_at)
         SELECT up.workspace_id, up.month, $3::numeric, $4, $5, $6,
                now() + make_interval(secs => $7::double precision / 1000)
         FROM up
         RETURNING id, month::text AS month`,
};

/**
 * $1 reservation, $2 new status, $3 actual cost, $4 workspace. One statement, one write of the hot
 * `budget_usage` row: the give-back and the spend go into the same upsert (a statement may change a row only
 * once). Only a reservation from an earlier month (a call that crossed midnight UTC at a month's end) gives
 * back on its own month's row. A reservation that is gone altogether still has its spend counted; one
 * already settled or released counts nothing twice.
 */
const FINISH_STATEMENT = {
  name: 'raptorflow_budget_finish_v1',
  text: `WITH cur AS (SELECT ${CURRENT_MONTH_SQL} AS month),
       old AS (
         SELECT id, status, amount_usd, month FROM budget_reservations WHERE id = $1 FOR UPDATE
       ), done AS (
         UPDATE budget_reservations r
         SET status = $2, settled_cost_usd = $3::numeric, updated_at = now()
         FROM old WHERE r.id = old.id AND old.status IN ('active', 'expired')
         RETURNING old.status AS old_status, old.amount_usd, old.month
       ), give_back AS (
         SELECT COALESCE(SUM(done.amount_usd) FILTER (WHERE done.old_status = 'active'), 0) AS amount,
                bool_or(done.month <> cur.month) AS other_month
         FROM done, cur
       ), other_month AS (
         UPDATE budget_usage u SET reserved_usd = GREATEST(u.reserved_usd - g.amount, 0), updated_at = now()
         FROM give_back g, done
         WHERE g.other_month AND u.workspace_id = $4 AND u.month = done.month
         RETURNING 1
       )
       INSERT INTO budget_usage AS u (workspace_id, month, spent_usd, calls)
       SELECT $4, cur.month, $3::numeric, 1 FROM cur
       WHERE EXISTS (SELECT 1 FROM done) OR NOT EXISTS (SELECT 1 FROM old)
       ON CONFLICT (workspace_id, month) DO UPDATE SET
         spent_usd = u.spent_usd + EXCLUDED.spent_usd,
         reserved_usd = GREATEST(
           u.reserved_usd - (SELECT CASE WHEN g.other_month THEN 0 ELSE g.amount END FROM give_back g), 0),
         calls = u.calls + 1,
         updated_at = now()`,
};

/** Amounts are exact decimal strings (see shared/core's money module for the conversions). */
export interface ReserveRow {
  workspaceId: string;
  defaultBudget: string;
  amount: string;
  model: string;
  agentRunId: string | null;
  correlationId: string | null;
  ttlMs: number;
}

/**
 * All SQL of `budget_usage`, `budget_reservations` and `workspace_budgets`: admission (reserve, raise,
 * settle/release, reclaim), the month's state, the reconciler's spend correction and the budget setting.
 */
export class BudgetRepository {
  constructor(private readonly db: Knex) {}

  /** The conditional reservation (see RESERVE_STATEMENT); undefined when the budget cannot take it. */
  async reserve(r: ReserveRow): Promise<{ id: string; month: string } | undefined> {
    const { rows } = await runPrepared<{ id: string; month: string }>(this.db, RESERVE_STATEMENT, [
      r.workspaceId,
      r.defaultBudget,
      r.amount,
      r.model,
      r.agentRunId,
      r.correlationId,
      r.ttlMs,
    ]);
    return rows[0];
  }

  /**
   * Reserves many requests of one workspace in one statement (see RESERVE_BATCH_STATEMENT): for each, in
   * order, whether it was admitted; `applied` false means nothing was written and the batch must run again.
   */
  async reserveBatch(
    workspaceId: string,
    defaultBudget: string,
    ttlMs: number,
    rows: Array<Omit<ReserveRow, 'workspaceId' | 'defaultBudget' | 'ttlMs'> & { id: string }>,
  ): Promise<{ month: string; admitted: boolean[]; applied: boolean }> {
    const { rows: out } = await runPrepared<{ month: string; admitted: boolean[]; applied: boolean }>(
      this.db,
      RESERVE_BATCH_STATEMENT,
      [
        workspaceId,
        defaultBudget,
        rows.map((r) => r.id),
        rows.map((r) => r.amount),
        rows.map((r) => r.model),
        rows.map((r) => r.agentRunId),
        rows.map((r) => r.correlationId),
        ttlMs,
      ],
    );
    return out[0]!;
  }

  /** Raises an active reservation by `delta` under the same budget check; false when it cannot. */
  async raise(
    r: { id: string; workspaceId: string; month: string },
    delta: string,
    defaultBudget: string,
  ): Promise<boolean> {
    const { rows } = await this.db.raw<{ rows: unknown[] }>(
      `WITH b AS (
         SELECT ${budgetOfSql(':ws', ':default')} AS budget
       ), up AS (
         UPDATE budget_usage u SET reserved_usd = u.reserved_usd + :delta::numeric, updated_at = now()
         WHERE u.workspace_id = :ws AND u.month = :month::date
           AND u.spent_usd + u.reserved_usd + :delta::numeric <= (SELECT budget FROM b)
           AND EXISTS (SELECT 1 FROM budget_reservations WHERE id = :id AND status = 'active')
         RETURNING 1
       )
       UPDATE budget_reservations SET amount_usd = amount_usd + :delta::numeric, updated_at = now()
       WHERE id = :id AND EXISTS (SELECT 1 FROM up) RETURNING id`,
      { ws: r.workspaceId, default: defaultBudget, delta, month: r.month, id: r.id },
    );
    return rows.length > 0;
  }

  /** Settles (actual cost) or releases (0) a reservation in the caller's transaction (see FINISH_STATEMENT). */
  async finish(
    trx: Knex.Transaction,
    r: { id: string; workspaceId: string },
    status: 'settled' | 'released',
    actual: string,
  ): Promise<void> {
    await runPrepared(trx, FINISH_STATEMENT, [r.id, status, actual, r.workspaceId]);
  }

  /** finish() for many distinct reservations of one workspace, in one statement (see FINISH_BATCH_STATEMENT). */
  async finishBatch(
    trx: Knex.Transaction,
    workspaceId: string,
    rows: Array<{ id: string; status: 'settled' | 'released'; actual: string }>,
  ): Promise<void> {
    await runPrepared(trx, FINISH_BATCH_STATEMENT, [
      rows.map((r) => r.id),
      rows.map((r) => r.status),
      rows.map((r) => r.actual),
      workspaceId,
    ]);
  }

  /** Expires active reservations past their time and gives their amounts back; returns how many. */
  async reclaimExpired(workspaceId?: string): Promise<number> {
    const { rows } = await this.db.raw<{ rows: Array<{ n: number }> }>(
      `WITH exp AS (
         UPDATE budget_reservations SET status = 'expired', updated_at = now()
         WHERE status = 'active' AND expires_at < now() ${workspaceId ? 'AND workspace_id = :ws' : ''}
         RETURNING workspace_id, month, amount_usd
       ), agg AS (
         SELECT workspace_id, month, SUM(amount_usd) AS total, COUNT(*) AS n FROM exp GROUP BY 1, 2
       ), upd AS (
         UPDATE budget_usage u SET reserved_usd = GREATEST(u.reserved_usd - agg.total, 0), updated_at = now()
         FROM agg WHERE u.workspace_id = agg.workspace_id AND u.month = agg.month
         RETURNING 1
       )
       SELECT COALESCE(SUM(n), 0)::int AS n FROM agg`,
      workspaceId ? { ws: workspaceId } : {},
    );
    return rows[0]?.n ?? 0;
  }

  /** Budget, spent and reserved (exact text) for a UTC month's first day (default: the current month). */
  async state(
    workspaceId: string,
    defaultBudget: string,
    month?: string,
  ): Promise<{ month: string; budget: string; spent: string | null; reserved: string | null }> {
    const { rows } = await this.db.raw<{
      rows: Array<{ month: string; budget: string; spent: string | null; reserved: string | null }>;
    }>(
      `SELECT m.month::text AS month,
              ${budgetOfSql(':ws', ':default')}::text AS budget,
              u.spent_usd::text AS spent, u.reserved_usd::text AS reserved
       FROM (SELECT ${month ? ':month::date' : CURRENT_MONTH_SQL} AS month) m
       LEFT JOIN budget_usage u ON u.workspace_id = :ws AND u.month = m.month`,
      month
        ? { ws: workspaceId, default: defaultBudget, month }
        : { ws: workspaceId, default: defaultBudget },
    );
    return rows[0]!;
  }

  /**
   * The `limit` workspaces that spent the largest share of this month's budget, highest first (a zero budget
   * with spend counts as fully used). Ordered and cut here, so a scrape never reads every workspace.
   */
  async topUtilisation(
    defaultBudget: string,
    limit: number,
  ): Promise<Array<{ workspace_id: string; spent: string; budget: string }>> {
    const { rows } = await this.db.raw<{
      rows: Array<{ workspace_id: string; spent: string; budget: string }>;
    }>(
      `SELECT u.workspace_id, u.spent_usd::text AS spent, b.budget::text AS budget
         FROM budget_usage u
         CROSS JOIN LATERAL (SELECT ${budgetOfSql('u.workspace_id', ':default')} AS budget) b
        WHERE u.month = ${CURRENT_MONTH_SQL}
        ORDER BY CASE WHEN b.budget > 0 THEN u.spent_usd / b.budget
                      WHEN u.spent_usd > 0 THEN 1 ELSE 0 END DESC, u.workspace_id
        LIMIT :limit`,
      { default: defaultBudget, limit },
    );
    return rows;
  }

  /** Workspaces whose month counter differs from their cost rows' sum (`inMonth` filters cost_logs). */
  async spentDrift(
    trx: Knex.Transaction,
    month: string,
  ): Promise<Array<{ workspace_id: string; before: string | null; after: string }>> {
    const { rows } = await trx.raw<{
      rows: Array<{ workspace_id: string; before: string | null; after: string }>;
    }>(
      `WITH e AS (SELECT workspace_id, sum(cost_usd) AS spent FROM cost_logs
                  WHERE created_at >= (:month::date)::timestamp AT TIME ZONE 'UTC'
                    AND created_at < ((:month::date) + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                  GROUP BY 1)
       SELECT e.workspace_id, u.spent_usd::text AS before, e.spent::text AS after
       FROM e LEFT JOIN budget_usage u ON u.workspace_id = e.workspace_id AND u.month = :month::date
       WHERE u.spent_usd IS DISTINCT FROM e.spent`,
      { month },
    );
    return rows;
  }

  async setSpent(trx: Knex.Transaction, workspaceId: string, month: string, spent: string): Promise<void> {
    await trx('budget_usage')
      .insert({ workspace_id: workspaceId, month, spent_usd: spent })
      .onConflict(['workspace_id', 'month'])
      .merge({ spent_usd: spent, updated_at: trx.fn.now() });
  }

  async workspaceBudget(
    workspaceId: string,
    db: Knex | Knex.Transaction = this.db,
  ): Promise<Pick<WorkspaceBudgetRow, 'monthly_budget_usd' | 'updated_at'> | undefined> {
    return db('workspace_budgets')
      .where({ workspace_id: workspaceId })
      .first<Pick<WorkspaceBudgetRow, 'monthly_budget_usd' | 'updated_at'> | undefined>(
        'monthly_budget_usd',
        'updated_at',
      );
  }

  async setWorkspaceBudget(
    trx: Knex.Transaction,
    workspaceId: string,
    amount: string,
    userId: string,
  ): Promise<void> {
    await trx('workspace_budgets')
      .insert({ workspace_id: workspaceId, monthly_budget_usd: amount, updated_by: userId })
      .onConflict('workspace_id')
      .merge({ monthly_budget_usd: amount, updated_by: userId, updated_at: trx.fn.now() });
  }

  /** The current UTC month's first day and the previous one's, by the database clock. */
  async currentAndPreviousMonth(): Promise<{ cur: string; prev: string }> {
    const { rows } = await this.db.raw<{ rows: Array<{ cur: string; prev: string }> }>(
      `SELECT ${CURRENT_MONTH_SQL}::text AS cur, (${CURRENT_MONTH_SQL} - interval '1 month')::date::text AS prev`,
    );
    return rows[0]!;
  }
}
