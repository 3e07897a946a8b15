import type { Knex } from 'knex';
import { STEP_VIEW_COLUMNS } from './agent-run.rows';
import type { AgentRunStepRow, RunError, StepViewRow } from './agent-run.rows';

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

  /** Starts the step, or restarts it (one more attempt) when a previous attempt left its row. */
  async start(
    s: Pick<AgentRunStepRow, 'run_id' | 'workspace_id' | 'key' | 'position'>,
  ): Promise<Pick<AgentRunStepRow, 'position' | 'attempts'>> {
    const [row] = await this.db('agent_run_steps')
      .insert({ ...s, status: 'running' })
      .onConflict(['run_id', 'key'])
      .merge({
        status: 'running',
        attempts: this.db.raw('agent_run_steps.attempts + 1'),
        started_at: this.db.fn.now(),
        error: null,
        completed_at: null,
      })
      .returning<Array<Pick<AgentRunStepRow, 'position' | 'attempts'>>>(['position', 'attempts']);
    return row!;
  }

  async complete(
    runId: string,
    key: string,
    s: Pick<AgentRunStepRow, 'output' | 'model' | 'input_tokens' | 'output_tokens' | 'cost_usd'>,
  ): Promise<void> {
    await this.db('agent_run_steps')
      .where({ run_id: runId, key })
      .update({
        ...s,
        output: JSON.stringify(s.output ?? null),
        completed_at: this.db.fn.now(),
        status: 'completed',
      });
  }

  async fail(runId: string, key: string, error: RunError): Promise<void> {
    await this.db('agent_run_steps')
      .where({ run_id: runId, key })
      .update({ status: 'failed', error: JSON.stringify(error), completed_at: this.db.fn.now() });
  }

  async listForRun(workspaceId: string, runId: string): Promise<StepViewRow[]> {
    return this.db('agent_run_steps')
      .where({ run_id: runId, workspace_id: workspaceId })
      .orderBy([{ column: 'position' }, { column: 'started_at' }])
      .select<StepViewRow[]>(...STEP_VIEW_COLUMNS);
  }
}
