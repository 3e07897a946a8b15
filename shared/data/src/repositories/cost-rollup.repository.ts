import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import type { CostRollupRow } from './cost.rows';

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

  /** Claims and folds one cost row; `claimed` false when it was folded before. */
  async fold(
    trx: Knex.Transaction,
    costLogId: string,
  ): Promise<{ workspace_id: string; month: string; claimed: boolean } | undefined> {
    const { rows } = await runPrepared<{ workspace_id: string; month: string; claimed: boolean }>(
      trx,
      FOLD_STATEMENT,
      [costLogId],
    );
    return rows[0];
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
