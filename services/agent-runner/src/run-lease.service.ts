import type { Knex } from 'knex';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import type { LeaseHold } from '@raptorflow/data/repositories/agent-run.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { RunAgentResolver } from './run-agent-resolver.service';
import type { RunTree } from './run-tree.service';

export type ClaimResult =
  | { kind: 'claimed'; run: AgentRunRow; resumed: boolean }
  /** Finished, cancelled before it started, or unknown: nothing to do. */
  | { kind: 'done' }
  /** Another live runner holds it: try again once its lease could have run out. */
  | { kind: 'held'; retryInMs: number }
  /** The workspace is at its concurrency cap: wait for a slot. */
  | { kind: 'wait' }
  /** The run's agent is not seeded yet: it stays queued; look again in `retryInMs`. */
  | { kind: 'unseeded'; retryInMs: number }
  /** Ended here without starting (its agent never appeared). */
  | { kind: 'failed'; error: { code: string; message: string } };

/**
 * A write of a run this claim no longer holds was refused (fencing): the runner stalled past its lease, the
 * sweeper requeued the run and another claim took it. The work stops here without writing anything more.
 */
export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`run ${runId}: the lease was lost to a later claim; this attempt's writes are refused`);
    this.name = 'LeaseLostError';
  }
}

export interface RunLeaseOptions {
  db: Knex;
  events: RunEventLog;
  /** This process's identity on leases (host:pid:random). */
  owner: string;
  leaseMs: number;
  workspaceConcurrency: number;
  /** Finds the agent of a run asked for before its workspace was seeded. */
  agents: RunAgentResolver;
  /** Totals include a run's children; a child's end wakes its parent. */
  tree: RunTree;
}

/**
 * Who runs a run, and when. A claim is one transaction under a per-workspace advisory lock, so two runners
 * can neither hold the same run nor both take a workspace's last free slot. The lease is renewed while the
 * run executes; a runner that dies simply stops renewing, and the run is claimable again once it expires.
 */
export class RunLeaseService {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly tree: RunTree;
  private readonly events: RunEventLog;
  readonly owner: string;
  readonly leaseMs: number;
  private readonly cap: number;
  private readonly agents: RunAgentResolver;

  constructor(opts: RunLeaseOptions) {
    this.db = opts.db;
    this.runs = new AgentRunRepository(opts.db);
    this.tree = opts.tree;
    this.events = opts.events;
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs;
    this.cap = opts.workspaceConcurrency;
    this.agents = opts.agents;
  }

  async claim(runId: string): Promise<ClaimResult> {
    // Runs this claim ended without starting (cancelled first, never seeded): observed once committed.
    const ended: FinishedRun[] = [];
    const result = await this.db.transaction(async (trx): Promise<ClaimResult> => {
      const workspaceId = await this.runs.workspaceOf(trx, runId);
      if (!workspaceId) return { kind: 'done' };
      await this.runs.lockWorkspaceClaims(trx, workspaceId);
      const run = await this.runs.lockForClaim(trx, runId);
      if (!run || !['queued', 'running'].includes(run.status)) return { kind: 'done' };
      if (run.status === 'queued' && run.cancel_requested_at) {
        ended.push(
          await this.finishIn(trx, run, 'cancelled', {
            error: { code: 'cancelled', message: 'Cancelled before it started' },
          }),
        );
        return { kind: 'done' };
      }
      // A live lease is held even when this process holds it: a second job of the same run (the stalled-job
      // check's copy, a sweeper's requeue) must not start a second attempt beside the running one.
      if (run.status === 'running' && run.lease_live)
        return { kind: 'held', retryInMs: run.lease_left_ms + 1_000 };
      // A run asked for before its workspace was seeded gets its agent now, in the transaction that starts it.
      let agentId = run.agent_id;
      if (!agentId) {
        const found = await this.agents.resolve(trx, run);
        if (found.kind === 'waiting') return { kind: 'unseeded', retryInMs: found.retryInMs };
        if (found.kind === 'never_seeded') {
          ended.push(await this.finishIn(trx, run, 'failed', { error: found.error }));
          return { kind: 'failed', error: found.error };
        }
        agentId = found.agentId;
      }
      if ((await this.runs.countLiveRunning(trx, run.workspace_id, runId)) >= this.cap)
        return { kind: 'wait' };
      const resumed = run.status === 'running';
      const claimed = await this.runs.markClaimed(trx, runId, {
        agentId,
        owner: this.owner,
        leaseMs: this.leaseMs,
      });
      await this.events.append(run, 'status', { status: 'running', resumed, attempt: claimed.attempts }, trx);
      return { kind: 'claimed', run: claimed, resumed };
    });
    for (const e of ended) observeFinished(e);
    // Only a run's first claim ends its wait: a resumed run was already counted when it first started.
    if (result.kind === 'claimed' && !result.resumed && result.run.started_at)
      getMetrics().runQueueWait.observe(
        { flow: result.run.flow },
        Math.max(0, result.run.started_at.getTime() - result.run.created_at.getTime()) / 1000,
      );
    return result;
  }

  /**
   * Extends the lease; returns false when it is no longer ours (expired and taken), and whether a cancel was
   * requested (the Redis cancel message may have been missed; this is the backstop).
   */
  async renew(run: LeaseHold): Promise<{ held: boolean; cancelRequested: boolean }> {
    return this.runs.renew(run, this.owner, this.leaseMs);
  }

  /** Gives the run up without finishing it (infrastructure failure): another attempt can claim it at once. */
  async release(run: LeaseHold): Promise<void> {
    await this.runs.release(run, this.owner);
  }

  /** Ends a run we hold. Totals come from its cost rows, so calls of failed or cancelled steps count too. */
  async finish(
    run: AgentRunRow,
    status: 'completed' | 'failed' | 'cancelled',
    extra: { output?: unknown; error?: { code: string; message: string } },
  ): Promise<boolean> {
    const ended = await this.db.transaction(async (trx) => {
      if (!(await this.runs.lockHeld(trx, run, this.owner))) return undefined;
      return this.finishIn(trx, run, status, extra);
    });
    if (!ended) return false;
    observeFinished(ended);
    return true;
  }

  private async finishIn(
    trx: Knex.Transaction,
    run: AgentRunRow,
    status: 'completed' | 'failed' | 'cancelled',
    extra: { output?: unknown; error?: { code: string; message: string } },
  ): Promise<FinishedRun> {
    const done = await this.tree.endIn(trx, run, status, extra);
    return { flow: run.flow, status, durationMs: done.duration_ms };
  }
}

interface FinishedRun {
  flow: string;
  status: 'completed' | 'failed' | 'cancelled';
  durationMs: number;
}

/** Called after the ending transaction committed, so a rolled-back finish is never counted. */
function observeFinished(e: FinishedRun): void {
  getMetrics().runDuration.observe({ flow: e.flow, outcome: e.status }, e.durationMs / 1000);
}
