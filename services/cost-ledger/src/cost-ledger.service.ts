import type { Knex } from 'knex';
import { getDatabase } from '@raptorflow/shared';

export interface CostLedgerServiceOptions {
  db?: Knex;
}

/**
 * Folds cost rows into the workspace × month × model and workspace × day × model rollups (UTC calendar).
 * A `cost_rollup_folds` row is claimed in the same transaction as the increments, so a redelivered
 * `cost.recorded` event folds nothing twice.
 */
export class CostLedgerService {
  private readonly db: Knex;

  constructor(opts: CostLedgerServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
  }

  async fold(costLogId: string): Promise<{ folded: boolean }> {
    return this.db.transaction(async (trx) => {
      const claimed = await trx.raw<{ rows: unknown[] }>(
        `INSERT INTO cost_rollup_folds (cost_log_id, workspace_id)
         SELECT id, workspace_id FROM cost_logs WHERE id = ?
         ON CONFLICT (cost_log_id) DO NOTHING
         RETURNING cost_log_id`,
        [costLogId],
      );
      if (claimed.rows.length === 0) return { folded: false };
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
      return { folded: true };
    });
  }
}
