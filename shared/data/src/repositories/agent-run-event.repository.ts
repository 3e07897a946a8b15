import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import type { AgentRunEventRow, RunEventType } from './agent-run.rows';

/** Every status change and step of every run appends one: $1 run, $2 workspace, $3 type, $4 data (JSON). */
const APPEND_STATEMENT = {
  name: 'raptorflow_run_event_append_v1',
  text: `INSERT INTO agent_run_events (run_id, workspace_id, type, data) VALUES ($1, $2, $3, $4::jsonb) RETURNING id`,
};

/**
 * A fragment for composed statements, not a query of its own: appends the rows of `source`, a SELECT or
 * VALUES giving (run_id, workspace_id, type, data), returning their ids. The runner's step statements take
 * it as a CTE so a step's event commits with its step row (agent-run-step.statements.ts).
 */
export const runEventInsertSql = (source: string): string =>
  `INSERT INTO agent_run_events (run_id, workspace_id, type, data) ${source} RETURNING id`;

/** All SQL of `agent_run_events`, the run's progress log (SSE event ids are its row ids). */
export class AgentRunEventRepository {
  constructor(private readonly db: Knex) {}

  /** Inside `trx` the row is visible only once that commits. */
  async append(
    run: { id: string; workspace_id: string },
    type: RunEventType,
    data: Record<string, unknown>,
    trx?: Knex.Transaction,
  ): Promise<number> {
    const { rows } = await runPrepared<{ id: number | string }>(trx ?? this.db, APPEND_STATEMENT, [
      run.id,
      run.workspace_id,
      type,
      JSON.stringify(data),
    ]);
    return Number(rows[0]!.id);
  }

  /** Events of a run after `afterId`, oldest first. */
  async since(
    runId: string,
    afterId: number,
    limit: number,
  ): Promise<Array<Pick<AgentRunEventRow, 'id' | 'run_id' | 'type' | 'data' | 'created_at'>>> {
    const rows = await this.db('agent_run_events')
      .where('run_id', runId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .select<AgentRunEventRow[]>('id', 'run_id', 'type', 'data', 'created_at');
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }
}
