import type { Knex } from 'knex';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRunApprovalRepository } from '@raptorflow/data/repositories/agent-run-approval.repository';
import { AgentRunTreeRepository } from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { RunTree } from './run-tree.service';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';

export interface RunSweeperOptions {
  db: Knex;
  bus: RaptorBus;
  leaseMs: number;
  retentionHours: number;
  logger: Logger;
  /** Ends runs whose approval expired (and wakes their parents). */
  tree: RunTree;
}

/**
 * Two chores every runner does every lease period (concurrent sweeps are harmless: each row is taken by
 * one UPDATE). Ghost runs — `running` with a lease that ran out and no runner renewing it — get a fresh
 * `agent.run.requested`, in the same transaction that marks them, so no run stays `running` forever even if
 * its job is gone. Checkpoints of runs finished longer ago than the retention are deleted.
 */
export class RunSweeper {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly bus: RaptorBus;
  private readonly leaseMs: number;
  private readonly retentionHours: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private readonly approvals: AgentRunApprovalRepository;
  private readonly treeRows: AgentRunTreeRepository;
  private readonly tree: RunTree;

  constructor(opts: RunSweeperOptions) {
    this.db = opts.db;
    this.runs = new AgentRunRepository(opts.db);
    this.bus = opts.bus;
    this.leaseMs = opts.leaseMs;
    this.retentionHours = opts.retentionHours;
    this.logger = opts.logger;
    this.approvals = new AgentRunApprovalRepository(opts.db);
    this.treeRows = new AgentRunTreeRepository(opts.db);
    this.tree = opts.tree;
  }

  start(intervalMs = this.leaseMs): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.logger.warn({ err }, 'run sweep failed; next pass retries'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<{ requeued: number; pruned: number; expired: number }> {
    return {
      requeued: await this.requeueGhosts(),
      expired: await this.expireApprovals(),
      pruned: await this.pruneCheckpoints(),
    };
  }

  /**
   * Runs paused at an approval nobody decided before its deadline (`AGENT_APPROVAL_TTL_MS`) end `failed` with
   * `approval_expired`. A run awaiting approval holds no lease, so the ghost sweep never touches it; this is the
   * only way such a run ends without a decision (or a cancel).
   */
  async expireApprovals(): Promise<number> {
    return this.db.transaction(async (trx) => {
      let ended = 0;
      for (const a of await this.approvals.expire(trx, 100)) {
        const run = await this.treeRows.lockAwaiting(trx, a.run_id);
        if (!run) continue;
        this.logger.warn({ agent_run_id: run.id }, 'approval expired: run failed');
        await this.tree.endIn(trx, run, 'failed', {
          error: { code: 'approval_expired', message: 'Nobody decided on the approval before it expired' },
        });
        ended++;
      }
      return ended;
    });
  }

  async requeueGhosts(): Promise<number> {
    return this.db.transaction(async (trx) => {
      const ghosts = await this.runs.markGhosts(trx, this.leaseMs);
      for (const g of ghosts) {
        this.logger.warn({ agent_run_id: g.id }, 'ghost run (no live lease): requeued');
        await this.bus.publish(
          'agent.run.requested',
          { agent_run_id: g.id, agent_key: g.agent_key },
          { trx, workspaceId: g.workspace_id, correlationId: g.correlation_id ?? undefined },
        );
      }
      return ghosts.length;
    });
  }

  async pruneCheckpoints(): Promise<number> {
    return this.runs.pruneCheckpoints(this.retentionHours);
  }
}
