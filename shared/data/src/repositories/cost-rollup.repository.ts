import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { workspaceMonthLockIdSql } from './budget-alert.repository';
import type { CostRollupRow } from './cost.rows';

/**
 * The batched fold, one statement: claims the cost rows $1 (distinct ids, sorted) that no fold claimed before,
 * adds their increments, summed per workspace × month × model and workspace × day × model, to the rollups,
 * then takes the advisory lock of every workspace-month they touched; returns the claimed rows.
 *
 * Order of work, and why: the claims run to completion before any increment (the increments aggregate over
 * them), the increments before any lock (the locks depend on the upsert's row count), so every fold takes its
 * locks in the same order of kinds — fold rows, then rollup rows, then workspace-month locks — and within a
 * kind in a fixed order (ids sorted, rollup keys sorted, lock ids sorted): two batches can wait on each other
 * but never deadlock. The locks are taken after the increments, so the alert check, the NEXT statement, reads
 * in a fresh snapshot every increment committed by folds that held the lock before it, plus its own.
 */
const FOLD_BATCH_STATEMENT = {
  name: 'raptorflow_ledger_fold_batch_v2',
  text: `WITH wanted AS (
     SELECT id, workspace_id, model, input_tokens, output_tokens, cached_input_tokens, thinking_tokens, cost_usd,
            created_at AT TIME ZONE 'UTC' AS t
     FROM cost_logs WHERE id = ANY($1::uuid[])
   ), claim AS (
     INSERT INTO cost_rollup_folds (cost_log_id, workspace_id) SELECT id, workspace_id FROM wanted ORDER BY id
     ON CONFLICT (cost_log_id) DO NOTHING RETURNING cost_log_id
   ), src AS (
     -- From the rows read once above: joining cost_logs again would be planned as a scan of the whole table.
     SELECT w.* FROM wanted w JOIN claim ON claim.cost_log_id = w.id
   ), inc AS (
     SELECT workspace_id, p.period, date_trunc(p.period, t)::date AS period_start, model, count(*) AS calls,
            sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
            sum(cached_input_tokens) AS cached_input_tokens, sum(thinking_tokens) AS thinking_tokens,
            sum(cost_usd) AS spent_usd
     FROM src, (VALUES ('month'), ('day')) AS p(period)
     GROUP BY 1, 2, 3, 4
   ), bump AS (
     INSERT INTO cost_rollups AS r (workspace_id, period, period_start, model, calls, input_tokens,
                                    output_tokens, cached_input_tokens, thinking_tokens, spent_usd, updated_at)
     SELECT workspace_id, period, period_start, model, calls, input_tokens, output_tokens, cached_input_tokens,
            thinking_tokens, spent_usd, now()
     FROM inc ORDER BY workspace_id, period, period_start, model
     ON CONFLICT (workspace_id, period, period_start, model) DO UPDATE SET
       calls = r.calls + EXCLUDED.calls,
       input_tokens = r.input_tokens + EXCLUDED.input_tokens,
       output_tokens = r.output_tokens + EXCLUDED.output_tokens,
       cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
       thinking_tokens = r.thinking_tokens + EXCLUDED.thinking_tokens,
       spent_usd = r.spent_usd + EXCLUDED.spent_usd,
       updated_at = now()
     RETURNING 1
   ), locked AS (
     SELECT count(pg_advisory_xact_lock(k)) AS n
     FROM (SELECT DISTINCT ${workspaceMonthLockIdSql('workspace_id', `date_trunc('month', t)`)} AS k
           FROM src WHERE (SELECT count(*) FROM bump) >= 0 ORDER BY 1) AS keys
   )
   SELECT s.id, s.workspace_id, date_trunc('month', s.t)::date::text AS month, s.cost_usd::text AS cost_usd,
          l.n AS locks
   FROM src s, locked l`,
};

/** The rollup columns the reconciler compares, all as exact text. */
export const ROLLUP_FIELDS = [
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'thinking_tokens',
  'spent_usd',
] as const;
export type RollupValues = Record<(typeof ROLLUP_FIELDS)[number], string>;
export type RollupKey = Pick<CostRollupRow, 'workspace_id' | 'period' | 'period_start' | 'model'>;

/** created_at within the UTC month whose first day is bound twice. */
const IN_MONTH = `created_at >= (?::date)::timestamp AT TIME ZONE 'UTC'
             AND created_at < ((?::date) + interval '1 month')::timestamp AT TIME ZONE 'UTC'`;

/**
 * All SQL of `cost_rollups` and `cost_rollup_folds`: the exactly-once fold, the reconciler's recomputation
 * from `cost_logs` and its corrections, and the daily view.
 */
export class CostRollupRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Claims and folds the cost rows `ids` not folded before (see FOLD_BATCH_STATEMENT) and leaves the caller's
   * transaction holding the lock of each workspace-month they touched; returns the rows it folded (unknown
   * ids and rows folded before are left out). `month` is the row's UTC month, first day; costs exact text.
   */
  async foldBatch(
    trx: Knex.Transaction,
    ids: readonly string[],
  ): Promise<Array<{ id: string; workspace_id: string; month: string; cost_usd: string }>> {
    if (ids.length === 0) return [];
    const { rows } = await runPrepared<{ id: string; workspace_id: string; month: string; cost_usd: string }>(
      trx,
      FOLD_BATCH_STATEMENT,
      [[...new Set(ids)].sort()],
    );
    return rows;
  }

  /** Keeps folds out while a month is recomputed (folds take ROW EXCLUSIVE on both tables). */
  async lockAgainstFolds(trx: Knex.Transaction): Promise<void> {
    await trx.raw('LOCK TABLE cost_rollups, cost_rollup_folds IN SHARE ROW EXCLUSIVE MODE');
  }

  /** Marks the month's cost rows folded, so their late events change nothing after a recomputation. */
  async claimMonth(trx: Knex.Transaction, month: string): Promise<void> {
    await trx.raw(
      `INSERT INTO cost_rollup_folds (cost_log_id, workspace_id)
       SELECT id, workspace_id FROM cost_logs WHERE ${IN_MONTH} ON CONFLICT (cost_log_id) DO NOTHING`,
      [month, month],
    );
  }

  /**
   * The month's rollups recomputed from `cost_logs` against the stored ones: every row that differs, is
   * missing or is extra, with expected (`e_*`) and actual (`a_*`) values as text (null when absent).
   */
  async monthDrift(trx: Knex.Transaction, month: string): Promise<Array<Record<string, string | null>>> {
    const range = [month, month];
    const sums = ROLLUP_FIELDS.map((f) =>
      f === 'calls' ? 'count(*)::text AS calls' : `sum(${f === 'spent_usd' ? 'cost_usd' : f})::text AS ${f}`,
    ).join(', ');
    const { rows } = await trx.raw<{ rows: Array<Record<string, string | null>> }>(
      `WITH expected AS (
         SELECT workspace_id, 'month'::text AS period, ?::date AS period_start, model, ${sums}
         FROM cost_logs WHERE ${IN_MONTH} GROUP BY workspace_id, model
         UNION ALL
         SELECT workspace_id, 'day', date_trunc('day', created_at AT TIME ZONE 'UTC')::date, model, ${sums}
         FROM cost_logs WHERE ${IN_MONTH} GROUP BY 1, 3, 4
       ), actual AS (
         SELECT workspace_id, period, period_start, model, ${ROLLUP_FIELDS.map((f) => `${f}::text AS ${f}`).join(', ')}
         FROM cost_rollups
         WHERE (period = 'month' AND period_start = ?::date)
            OR (period = 'day' AND period_start >= ?::date AND period_start < (?::date + interval '1 month'))
       )
       SELECT COALESCE(e.workspace_id, a.workspace_id) AS workspace_id, COALESCE(e.period, a.period) AS period,
              COALESCE(e.period_start, a.period_start)::text AS period_start, COALESCE(e.model, a.model) AS model,
              ${ROLLUP_FIELDS.map((f) => `e.${f} AS e_${f}, a.${f} AS a_${f}`).join(', ')}
       FROM expected e FULL OUTER JOIN actual a
         ON a.workspace_id = e.workspace_id AND a.period = e.period AND a.period_start = e.period_start
        AND a.model = e.model
       WHERE ${ROLLUP_FIELDS.map((f) => `e.${f}::numeric IS DISTINCT FROM a.${f}::numeric`).join(' OR ')}`,
      [month, ...range, ...range, month, month, month],
    );
    return rows;
  }

  /** Writes the corrected rollup, or deletes it when nothing should be there. */
  async correct(trx: Knex.Transaction, key: RollupKey, after: Partial<RollupValues> | null): Promise<void> {
    if (!after) await trx('cost_rollups').where(key).del();
    else
      await trx('cost_rollups')
        .insert({ ...key, ...after, updated_at: trx.fn.now() })
        .onConflict(['workspace_id', 'period', 'period_start', 'model'])
        .merge();
  }

  /** Day × model rollups, both ends inclusive; spend as exact text. */
  async daily(workspaceId: string, from: string, to: string) {
    return this.db('cost_rollups')
      .where({ workspace_id: workspaceId, period: 'day' })
      .whereBetween('period_start', [from, to])
      .orderBy([{ column: 'period_start' }, { column: 'model' }])
      .select<
        Array<{
          day: string;
          model: string;
          calls: number;
          input_tokens: number;
          output_tokens: number;
          spent: string;
        }>
      >(
        this.db.raw(`period_start::text AS day`),
        'model',
        'calls',
        this.db.raw('input_tokens + cached_input_tokens AS input_tokens'),
        this.db.raw('output_tokens + thinking_tokens AS output_tokens'),
        this.db.raw('spent_usd::text AS spent'),
      );
  }
}
