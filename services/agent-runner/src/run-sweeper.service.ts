import type { Knex } from 'knex';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import { getDatabase } from '@raptorflow/core/db/database';
import { getLogger } from '@raptorflow/core/logging/logger';
import { getSettings } from '@raptorflow/core/config/settings';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';

export interface RunSweeperOptions {
  db?: Knex;
  bus?: RaptorBus;
  leaseMs?: number;
  retentionHours?: number;
  logger?: Logger;
}

/**
 * Two chores every runner does every lease period (concurrent sweeps are harmless: each row is taken by
 * one UPDATE). Ghost runs — `running` with a lease that ran out and no runner renewing it — get a fresh
 * `agent.run.requested`, in the same transaction that marks them, so no run stays `running` forever even if
 * its job is gone. Checkpoints of runs finished longer ago than the retention are deleted.
 */
export class RunSweeper {
  private readonly db: Knex;
  private readonly bus: RaptorBus;
  private readonly leaseMs: number;
  private readonly retentionHours: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: RunSweeperOptions = {}) {
    const s = getSettings().agentRuns;
    this.db = opts.db ?? getDatabase();
    this.bus = opts.bus ?? getBus();
    this.leaseMs = opts.leaseMs ?? s.leaseMs;
    this.retentionHours = opts.retentionHours ?? s.checkpointRetentionHours;
    this.logger = opts.logger ?? getLogger();
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

  async sweep(): Promise<{ requeued: number; pruned: number }> {
    return { requeued: await this.requeueGhosts(), pruned: await this.pruneCheckpoints() };
  }

  async requeueGhosts(): Promise<number> {
    return this.db.transaction(async (trx) => {
      // heartbeat_at doubles as "last swept": a requeued run is left alone for two lease periods.
      const ghosts = await trx('agent_runs')
        .where({ status: 'running' })
        .where(
          'lease_expires_at',
          '<',
          trx.raw(`now() - make_interval(secs => ?::double precision / 1000)`, [this.leaseMs]),
        )
        .where(
          'heartbeat_at',
          '<',
          trx.raw(`now() - make_interval(secs => ?::double precision / 500)`, [this.leaseMs]),
        )
        .update({ heartbeat_at: trx.fn.now(), lease_owner: null })
        .returning<
          Array<{ id: string; workspace_id: string; agent_key: string; correlation_id: string | null }>
        >(['id', 'workspace_id', 'agent_key', 'correlation_id']);
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
    const finished = this.db('agent_runs')
      .select(this.db.raw('id::text'))
      .whereIn('status', ['completed', 'failed', 'cancelled'])
      .where('completed_at', '<', this.db.raw(`now() - make_interval(hours => ?)`, [this.retentionHours]));
    let pruned = 0;
    for (const table of ['checkpoint_writes', 'checkpoint_blobs', 'checkpoints'])
      pruned += await this.db(`langgraph.${table}`).whereIn('thread_id', finished.clone()).del();
    return pruned;
  }
}
