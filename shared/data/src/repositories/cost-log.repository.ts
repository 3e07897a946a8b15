import type { Knex } from 'knex';
import { RUN_COST_VIEW_COLUMNS } from './cost.rows';
import type { CostLogRow, RunCostViewRow } from './cost.rows';

/** The first instant of a UTC month given as its first day, and of the next one. */
const MONTH_START = `(?::date)::timestamp AT TIME ZONE 'UTC'`;
const NEXT_MONTH_START = `((?::date) + interval '1 month')::timestamp AT TIME ZONE 'UTC'`;

/**
 * Fragments for composed statements, not queries of their own (the runner's step statements read a run's
 * cost so far in the same round trip as the step's writes: agent-run-step.statements.ts); `run` is the
 * parameter holding the run id (`$1`). The run's totals as `runTotals` sums them: columns input, output and
 * cost (exact decimal text), NULL sums when the run has no cost row yet.
 */
export const runTotalsSql = (run: `$${number}`): string =>
  `SELECT SUM(input_tokens + cached_input_tokens + cache_write_tokens) AS input,
          SUM(output_tokens + thinking_tokens) AS output, SUM(cost_usd)::text AS cost
     FROM cost_logs WHERE agent_run_id = ${run}`;

/** The run's exact cost so far (numeric, 0 without cost rows), as a scalar subquery's SELECT. */
export const runCostSumSql = (run: `$${number}`): string =>
  `SELECT COALESCE(SUM(cost_usd), 0) FROM cost_logs WHERE agent_run_id = ${run}`;

/**
 * All SQL that reads or writes `cost_logs` one call at a time or per run/month (the folding and
 * reconciliation statements that read it with the rollups live in the cost-rollup repository).
 */
export class CostLogRepository {
  constructor(private readonly db: Knex) {}

  async insert(trx: Knex.Transaction, row: Omit<CostLogRow, 'created_at'>): Promise<void> {
    await trx('cost_logs').insert(row);
  }

  /** Many rows in one statement (the trails of concurrent calls committing together). */
  async insertMany(trx: Knex.Transaction, rows: Array<Omit<CostLogRow, 'created_at'>>): Promise<void> {
    await trx('cost_logs').insert(rows);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db('cost_logs').where({ id }).first('id')) !== undefined;
  }

  /** A run's totals from its cost rows (failed and cancelled calls included); cost as exact decimal text. */
  async runTotals(
    runId: string,
    trx?: Knex.Transaction,
  ): Promise<{ inputTokens: number; outputTokens: number; costUsd: string }> {
    const db = trx ?? this.db;
    const [t] = await db('cost_logs')
      .where({ agent_run_id: runId })
      .select<Array<{ input: string | null; output: string | null; cost: string | null }>>(
        db.raw('SUM(input_tokens + cached_input_tokens + cache_write_tokens) AS input'),
        db.raw('SUM(output_tokens + thinking_tokens) AS output'),
        db.raw('SUM(cost_usd)::text AS cost'),
      );
    return {
      inputTokens: Number(t?.input ?? 0),
      outputTokens: Number(t?.output ?? 0),
      costUsd: t?.cost ?? '0',
    };
  }

  async listForRun(workspaceId: string, runId: string): Promise<RunCostViewRow[]> {
    return this.db('cost_logs')
      .where({ agent_run_id: runId, workspace_id: workspaceId })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select<RunCostViewRow[]>(...RUN_COST_VIEW_COLUMNS);
  }

  /** A UTC month (its first day) by model: calls, tokens, spend as exact decimal text. */
  async monthByModel(
    workspaceId: string,
    month: string,
  ): Promise<
    Array<{ model: string; calls: number; input_tokens: string; output_tokens: string; spent: string }>
  > {
    return this.db('cost_logs')
      .where('workspace_id', workspaceId)
      .where('created_at', '>=', this.db.raw(MONTH_START, [month]))
      .where('created_at', '<', this.db.raw(NEXT_MONTH_START, [month]))
      .groupBy('model')
      .orderBy('model')
      .select(
        'model',
        this.db.raw('count(*)::int AS calls'),
        this.db.raw('sum(input_tokens + cached_input_tokens + cache_write_tokens)::bigint AS input_tokens'),
        this.db.raw('sum(output_tokens + thinking_tokens)::bigint AS output_tokens'),
        this.db.raw('sum(cost_usd)::text AS spent'),
      );
  }
}
