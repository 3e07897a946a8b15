import type { Knex } from 'knex';
import { nanoToDecimal, sumNano } from '@raptorflow/core/money/money';
import { decimalToNumber } from '@raptorflow/core/money/money';
import { AgentRunApprovalRepository } from '@raptorflow/data/repositories/agent-run-approval.repository';
import type { ApprovalViewRow } from '@raptorflow/data/repositories/agent-run-approval.repository';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import type { LeaseHold } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRunTreeRepository } from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { cancelOpenChildren } from '@raptorflow/data/runs/run-tree-cancel';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';

export interface RunTotals {
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
  childrenCostUsd: string;
}

type TreeRun = Pick<
  AgentRunRow,
  'id' | 'workspace_id' | 'agent_key' | 'correlation_id' | 'parent_run_id' | 'stage'
>;

export interface RunTreeOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  /** How long a pending approval waits before the sweeper fails its run (`AGENT_APPROVAL_TTL_MS`). */
  approvalTtlMs: number;
}

/**
 * What ties runs into trees and lets them wait without holding anything: a run's totals (its own cost rows
 * plus its children's totals), the wake-up of a parent when a child ends, parking a parent that waits for its
 * children, pausing a run at an approval gate, and the cancel that reaches a parent's children.
 */
export class RunTree {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly tree: AgentRunTreeRepository;
  private readonly approvals: AgentRunApprovalRepository;
  private readonly costs: CostLogRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  readonly approvalTtlMs: number;

  constructor(o: RunTreeOptions) {
    this.db = o.db;
    this.runs = new AgentRunRepository(o.db);
    this.tree = new AgentRunTreeRepository(o.db);
    this.approvals = new AgentRunApprovalRepository(o.db);
    this.costs = new CostLogRepository(o.db);
    this.bus = o.bus;
    this.events = o.events;
    this.approvalTtlMs = o.approvalTtlMs;
  }

  /** The run's cost and tokens: its own calls' cost rows plus its children's totals (exact decimals). */
  async totals(trx: Knex.Transaction, runId: string): Promise<RunTotals> {
    const own = await this.costs.runTotals(runId, trx);
    const kids = await this.tree.childTotals(trx, runId);
    return {
      inputTokens: own.inputTokens + kids.inputTokens,
      outputTokens: own.outputTokens + kids.outputTokens,
      costUsd: nanoToDecimal(sumNano([own.costUsd, kids.costUsd])),
      childrenCostUsd: kids.costUsd,
    };
  }

  /**
   * Ends a run in `trx`: totals from its cost rows and its children, the final status event, and (for a
   * child) its parent's wake-up. The one ending every path uses: the runner's finish, the sweeper's expiry.
   */
  async endIn(
    trx: Knex.Transaction,
    run: TreeRun,
    status: 'completed' | 'failed' | 'cancelled',
    extra: { output?: unknown; error?: { code: string; message: string } },
  ): Promise<{ cost_usd: string; duration_ms: number }> {
    const totals = await this.totals(trx, run.id);
    const done = await this.runs.finish(trx, run.id, { status, ...extra, ...totals });
    await this.events.append(
      run,
      'status',
      {
        status,
        cost_usd: decimalToNumber(done.cost_usd),
        duration_ms: done.duration_ms,
        ...(extra.error ? { error: extra.error } : {}),
      },
      trx,
    );
    await this.childEnded(trx, run, status, done.cost_usd);
    return done;
  }

  /**
   * A child has ended (in `trx`): its parent's timeline says so, and the parent is woken through the outbox
   * (the event commits with the end, so a runner dying right after cannot lose it).
   */
  private async childEnded(
    trx: Knex.Transaction,
    run: TreeRun,
    status: string,
    costUsd: string,
  ): Promise<void> {
    if (!run.parent_run_id) return;
    const parent = { id: run.parent_run_id, workspace_id: run.workspace_id };
    await this.events.append(
      parent,
      'child.finished',
      {
        stage: run.stage,
        child_run_id: run.id,
        agent: run.agent_key,
        status,
        cost_usd: decimalToNumber(costUsd),
      },
      trx,
    );
    await this.wake(trx, parent.id, run, await this.tree.agentKeyOf(trx, parent.id));
  }

  /** Asks a runner to claim `runId` (a parked parent, a decided approval); a held run just waits its turn. */
  async wake(
    trx: Knex.Transaction,
    runId: string,
    ctx: Pick<AgentRunRow, 'workspace_id' | 'correlation_id'>,
    agentKey: string,
  ): Promise<void> {
    await this.bus.publish(
      'agent.run.requested',
      { agent_run_id: runId, agent_key: agentKey },
      { trx, workspaceId: ctx.workspace_id, correlationId: ctx.correlation_id ?? undefined },
    );
  }

  /**
   * Parks a parent that waits for `awaited` children: lease and slot given back, status stays `running`. If one
   * of them ended meanwhile (its wake may have found the parent still held and gone back to wait), the parent
   * wakes itself now instead of waiting for that retry. False: this claim no longer holds the run.
   */
  async park(run: AgentRunRow, owner: string, awaited: readonly string[]): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      if (!(await this.runs.lockHeld(trx, run, owner))) return false;
      const totals = await this.totals(trx, run.id);
      if (!(await this.tree.releaseToWait(trx, run, owner, 'running', totals))) return false;
      if ((await this.tree.countEnded(trx, awaited)) > 0) await this.wake(trx, run.id, run, run.agent_key);
      return true;
    });
  }

  /** Pauses the run at `gate` until a decision (or expiry): `awaiting_approval`, no lease, no slot. */
  async pauseForApproval(
    run: AgentRunRow,
    owner: string,
    gate: string,
    request: Record<string, unknown>,
  ): Promise<ApprovalViewRow | undefined> {
    return this.db.transaction(async (trx) => {
      if (!(await this.runs.lockHeld(trx, run, owner))) return undefined;
      const approval = await this.approvals.request(trx, {
        run_id: run.id,
        workspace_id: run.workspace_id,
        gate,
        request,
        ttlMs: this.approvalTtlMs,
      });
      const totals = await this.totals(trx, run.id);
      if (!(await this.tree.releaseToWait(trx, run, owner, 'awaiting_approval', totals))) return undefined;
      await this.events.append(
        run,
        'status',
        { status: 'awaiting_approval', approval: { id: approval.id, gate, expires_at: approval.expires_at } },
        trx,
      );
      return approval;
    });
  }

  /** The decision a resumed gate gets, if one was made. */
  decision(runId: string, gate: string): Promise<ApprovalViewRow | undefined> {
    return this.approvals.decided(runId, gate);
  }

  /**
   * A cancelled parent's children: unheld ones end now, running ones are asked to stop. Returns the running
   * ones, which the parent waits for (parked) so that its cost includes what they spent.
   */
  async cancelChildren(run: LeaseHold): Promise<string[]> {
    return this.db.transaction((trx) =>
      cancelOpenChildren(trx, run.id, {
        tree: this.tree,
        events: this.events,
        requestCancel: (id) => this.runs.requestCancel(trx, id),
      }),
    );
  }
}
