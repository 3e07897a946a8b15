import type { Knex } from 'knex';
import { createLogger, getDatabase } from '@raptorflow/shared';
import type { Logger } from '@raptorflow/shared';

export interface AgentRunServiceOptions {
  db?: Knex;
  logger?: Logger;
}

/**
 * Run execution (the LangGraph flows of the Lords) is not built yet. Until it is, a requested run is closed
 * as `failed` with the code `not_available` instead of sitting in `queued` forever, so clients get an
 * answer. The transition is guarded on status, so a redelivered event changes nothing twice.
 */
export class AgentRunService {
  private readonly db: Knex;
  private readonly logger: Logger;

  constructor(opts: AgentRunServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.logger = opts.logger ?? createLogger('agent-runner');
  }

  async execute(runId: string, workspaceId: string | null): Promise<{ status: string }> {
    const q = this.db('agent_runs').where({ id: runId, status: 'queued' });
    if (workspaceId) q.andWhere({ workspace_id: workspaceId });
    const updated = await q.update({
      status: 'failed',
      error: JSON.stringify({
        code: 'not_available',
        message: 'Agent execution is not available in this build yet',
      }),
      completed_at: this.db.fn.now(),
      updated_at: this.db.fn.now(),
    });
    if (updated === 0) {
      this.logger.info(
        { agent_run_id: runId },
        'run is not queued (already handled or unknown); nothing to do',
      );
      return { status: 'skipped' };
    }
    return { status: 'failed' };
  }
}
