import type { Knex } from 'knex';
import { STEP_VIEW_COLUMNS } from './agent-run.rows';
import type { AgentRunStepRow, RunError, StepViewRow } from './agent-run.rows';
import type { LeaseHold } from './agent-run.repository';

/**
 * The fencing condition of every step write: the run is still running under the claim that makes the write.
 * A runner that lost its lease (it stalled past it; the sweeper requeued the run and another claim took it)
 * then writes nothing, so no step is recorded twice.
 */
const FENCE = `EXISTS (SELECT 1 FROM agent_runs r WHERE r.id = ? AND r.attempts = ? AND r.status = 'running')`;

function fenced(db: Knex, hold: LeaseHold): Knex.Raw {
  return db.raw(FENCE, [hold.id, hold.attempts]);
}

/** All SQL of `agent_run_steps`: the runner's step bookkeeping and the gateway's run detail. */
export class AgentRunStepRepository {
  constructor(private readonly db: Knex) {}

  /** The stored output of a step that already completed (a resumed run does not pay for it again). */
  async completedOutput<T>(runId: string, key: string): Promise<{ output: T } | undefined> {
    return this.db('agent_run_steps')
      .where({ run_id: runId, key, status: 'completed' })
      .first<{ output: T } | undefined>('output');
  }

  /** The position a new step of the run takes. */
  async nextPosition(runId: string): Promise<number> {
    const row = await this.db('agent_run_steps')
      .where({ run_id: runId })
      .max<{ max: number | null }>('position as max')
      .first();
    return Number((row?.max ?? -1) + 1);
  }

  /**
   * Starts the step, or restarts it (one more attempt) when a previous attempt left its row; undefined when
   * `hold` is no longer the run's claim (nothing written).
   */
  async start(
    hold: LeaseHold,
    s: Pick<AgentRunStepRow, 'workspace_id' | 'key' | 'position'>,
  ): Promise<Pick<AgentRunStepRow, 'position' | 'attempts'> | undefined> {
    const { rows } = await this.db.raw<{ rows: Array<Pick<AgentRunStepRow, 'position' | 'attempts'>> }>(
      `INSERT INTO agent_run_steps (run_id, workspace_id, key, position, status)
       SELECT ?, ?, ?, ?, 'running' WHERE ${FENCE}
       ON CONFLICT (run_id, key) DO UPDATE
          SET status = 'running', attempts = agent_run_steps.attempts + 1, started_at = now(), error = NULL,
              completed_at = NULL
        WHERE ${FENCE}
       RETURNING position, attempts`,
      [hold.id, s.workspace_id, s.key, s.position, hold.id, hold.attempts, hold.id, hold.attempts],
    );
    return rows[0];
  }

  /** Stores the step's output; false when `hold` is no longer the run's claim (nothing written). */
  async complete(
    hold: LeaseHold,
    key: string,
    s: Pick<AgentRunStepRow, 'output' | 'model' | 'input_tokens' | 'output_tokens' | 'cost_usd'>,
  ): Promise<boolean> {
    const n = await this.db('agent_run_steps')
      .where({ run_id: hold.id, key })
      .andWhere(fenced(this.db, hold))
      .update({
        ...s,
        output: JSON.stringify(s.output ?? null),
        completed_at: this.db.fn.now(),
        status: 'completed',
      });
    return n > 0;
  }

  async fail(hold: LeaseHold, key: string, error: RunError): Promise<boolean> {
    const n = await this.db('agent_run_steps')
      .where({ run_id: hold.id, key })
      .andWhere(fenced(this.db, hold))
      .update({ status: 'failed', error: JSON.stringify(error), completed_at: this.db.fn.now() });
    return n > 0;
  }

  async listForRun(workspaceId: string, runId: string): Promise<StepViewRow[]> {
    return this.db('agent_run_steps')
      .where({ run_id: runId, workspace_id: workspaceId })
      .orderBy([{ column: 'position' }, { column: 'started_at' }])
      .select<StepViewRow[]>(...STEP_VIEW_COLUMNS);
  }
}
