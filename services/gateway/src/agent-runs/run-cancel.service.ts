import type { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@raptorflow/core/errors/app-error';
import { decimalToNumber } from '@raptorflow/core/money/money';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import type { Logger } from '@raptorflow/core/logging/logger';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRunTreeRepository } from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { RunViewRow } from '@raptorflow/data/repositories/agent-run.rows';
import { runCancelChannel } from '@raptorflow/data/runs/run-events';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { cancelOpenChildren } from '@raptorflow/data/runs/run-tree-cancel';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { toRunView } from './agent-run.views';
import type { RunView } from './agent-run.views';

export interface RunCancelServiceOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  /** Fail-fast connection the cancel nudge is published on. */
  redis?: Redis;
  prefix: string;
  logger: Logger;
}

export type CancelOutcome =
  | { kind: 'cancelled'; run: RunView }
  | { kind: 'requested'; id: string; status: 'running'; cancel_requested: true };

/**
 * Cancelling a run, and with it its children. A run no runner holds (queued, or paused at an approval) is
 * cancelled here and now. A running one belongs to its runner: we only mark the request (idempotently), the
 * same for its running children, cancel its unheld children at once, and nudge the runners after commit. A
 * campaign parked while its children work holds no lease, so nobody would notice its mark: it is woken
 * (`agent.run.requested`), and the claim that takes it ends it once no child runs any more.
 */
export class RunCancelService {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly tree: AgentRunTreeRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  private redis: Redis | undefined;
  private readonly prefix: string;
  private readonly logger: Logger;

  constructor(o: RunCancelServiceOptions) {
    this.db = o.db;
    this.runs = new AgentRunRepository(o.db);
    this.tree = new AgentRunTreeRepository(o.db);
    this.bus = o.bus;
    this.events = o.events;
    this.redis = o.redis;
    this.prefix = o.prefix;
    this.logger = o.logger;
  }

  async cancel(workspaceId: string, id: string): Promise<CancelOutcome> {
    const nudge: string[] = [];
    const outcome = await this.db.transaction(async (trx): Promise<CancelOutcome> => {
      const status = await this.runs.lockStatus(trx, workspaceId, id);
      if (!status) throw new NotFoundError('Run not found');
      if (status === 'queued' || status === 'awaiting_approval') {
        const message =
          status === 'queued' ? 'Cancelled before it started' : 'Cancelled while awaiting approval';
        const row = await this.runs.cancelQueued(trx, id, { code: 'cancelled', message });
        await this.events.append({ id, workspace_id: workspaceId }, 'status', { status: 'cancelled' }, trx);
        await this.wakeParent(trx, row, workspaceId);
        return { kind: 'cancelled', run: toRunView(row) };
      }
      if (status === 'running') {
        await this.runs.requestCancel(trx, id);
        nudge.push(id);
        const running = await cancelOpenChildren(trx, id, {
          tree: this.tree,
          events: this.events,
          requestCancel: (child) => this.runs.requestCancel(trx, child),
        });
        nudge.push(...running);
        if (!(await this.tree.leaseLive(trx, id))) await this.wake(trx, id, workspaceId);
        return { kind: 'requested', id, status: 'running', cancel_requested: true };
      }
      throw new ConflictError(`The run already ended (${status}); there is nothing to cancel`, { status });
    });
    for (const runId of nudge) await this.nudgeRunner(runId);
    return outcome;
  }

  /** A child cancelled here ends without a runner: its parent's timeline says so and the parent wakes. */
  private async wakeParent(trx: Knex.Transaction, child: RunViewRow, workspaceId: string): Promise<void> {
    if (!child.parent_run_id) return;
    await this.events.append(
      { id: child.parent_run_id, workspace_id: workspaceId },
      'child.finished',
      {
        stage: child.stage,
        child_run_id: child.id,
        agent: child.agent_key,
        status: 'cancelled',
        cost_usd: decimalToNumber(child.cost_usd),
      },
      trx,
    );
    await this.wake(trx, child.parent_run_id, workspaceId);
  }

  private async wake(trx: Knex.Transaction, runId: string, workspaceId: string): Promise<void> {
    const agentKey = await this.tree.agentKeyOf(trx, runId);
    await this.bus.publish(
      'agent.run.requested',
      { agent_run_id: runId, agent_key: agentKey },
      { trx, workspaceId },
    );
  }

  private async nudgeRunner(id: string): Promise<void> {
    this.redis ??= createRedis('producer');
    try {
      await this.redis.publish(runCancelChannel(this.prefix), id);
    } catch (err) {
      // cancel_requested_at is committed either way: a runner that checks its row still finds the request.
      this.logger.warn(
        { err, agent_run_id: id },
        'run cancel not announced (Redis); the request stays on the row',
      );
    }
  }
}
