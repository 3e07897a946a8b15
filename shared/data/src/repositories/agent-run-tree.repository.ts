import type { Knex } from 'knex';
import type { LeaseHold } from './agent-run.repository';
import type { AgentRunRow, RunError, RunStatus } from './agent-run.rows';

/** A child run as its parent's flow and the API's run detail see it. */
export type ChildRunRow = Pick<
  AgentRunRow,
  | 'id'
  | 'stage'
  | 'agent_key'
  | 'flow'
  | 'status'
  | 'output'
  | 'error'
  | 'cost_usd'
  | 'created_at'
  | 'completed_at'
>;

const CHILD_COLUMNS = [
  'id',
  'stage',
  'agent_key',
  'flow',
  'status',
  'output',
  'error',
  'cost_usd',
  'created_at',
  'completed_at',
] as const;

/** Statuses a child is still open in: its parent waits for it, and a cancel of the parent reaches it. */
export const OPEN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'awaiting_approval'];

/**
 * The `agent_runs` SQL of run trees and pauses (a campaign's child runs; a run parked while it waits for its
 * children or paused at an approval gate). Kept beside `agent-run.repository.ts`, which holds the rest of the
 * table's SQL; every write that must commit with an event or outbox row takes the caller's transaction.
 */
export class AgentRunTreeRepository {
  constructor(private readonly db: Knex) {}

  /**
   * The parent's child for `stage`, created if it does not exist yet (one per (parent, stage), enforced by a
   * unique index): `created` is false when an earlier attempt of the parent created it already.
   */
  async ensureChild(
    trx: Knex.Transaction,
    parent: Pick<AgentRunRow, 'id' | 'workspace_id' | 'requested_by' | 'correlation_id'>,
    c: { stage: string; agent_id: string; agent_key: string; flow: string; model: string; input: unknown },
  ): Promise<{ id: string; created: boolean }> {
    const { rows } = await trx.raw<{ rows: Array<{ id: string }> }>(
      `INSERT INTO agent_runs (workspace_id, agent_id, agent_key, flow, model, input, status, requested_by,
                               correlation_id, parent_run_id, stage)
       VALUES (?, ?, ?, ?, ?, ?::jsonb, 'queued', ?, ?, ?, ?)
       ON CONFLICT (parent_run_id, stage) WHERE parent_run_id IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        parent.workspace_id,
        c.agent_id,
        c.agent_key,
        c.flow,
        c.model,
        JSON.stringify(c.input),
        parent.requested_by,
        parent.correlation_id,
        parent.id,
        c.stage,
      ],
    );
    if (rows[0]) return { id: rows[0].id, created: true };
    const existing = await trx('agent_runs')
      .where({ parent_run_id: parent.id, stage: c.stage })
      .first<{ id: string }>('id');
    return { id: existing.id, created: false };
  }

  async child(parentId: string, stage: string): Promise<ChildRunRow | undefined> {
    return this.db('agent_runs')
      .where({ parent_run_id: parentId, stage })
      .first<ChildRunRow | undefined>(...CHILD_COLUMNS);
  }

  /** A run's children, oldest first (the API's run detail). */
  async children(workspaceId: string, parentId: string): Promise<ChildRunRow[]> {
    return this.db('agent_runs')
      .where({ parent_run_id: parentId, workspace_id: workspaceId })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select<ChildRunRow[]>(...CHILD_COLUMNS);
  }

  /** Children not ended yet, locked, for a cancel of their parent. */
  async lockOpenChildren(
    trx: Knex.Transaction,
    parentId: string,
  ): Promise<
    Array<Pick<AgentRunRow, 'id' | 'workspace_id' | 'status' | 'stage' | 'agent_key' | 'cost_usd'>>
  > {
    return trx('agent_runs')
      .where({ parent_run_id: parentId })
      .whereIn('status', [...OPEN_STATUSES])
      .forUpdate()
      .select('id', 'workspace_id', 'status', 'stage', 'agent_key', 'cost_usd');
  }

  async agentKeyOf(trx: Knex.Transaction, id: string): Promise<string> {
    const row = await trx('agent_runs').where({ id }).first<{ agent_key: string } | undefined>('agent_key');
    return row?.agent_key ?? 'strategos';
  }

  /** How many of `ids` have ended (a parent about to park re-reads its awaited children under its lock). */
  async countEnded(trx: Knex.Transaction, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const row = await trx('agent_runs')
      .whereIn('id', [...ids])
      .whereNotIn('status', [...OPEN_STATUSES])
      .count<{ n: string }>('* as n')
      .first();
    return Number(row?.n ?? 0);
  }

  /** The sums of the run's children (each child's own total includes its children). */
  async childTotals(
    trx: Knex.Transaction,
    parentId: string,
  ): Promise<{ inputTokens: number; outputTokens: number; costUsd: string }> {
    const [t] = await trx('agent_runs')
      .where({ parent_run_id: parentId })
      .select<Array<{ input: string | null; output: string | null; cost: string | null }>>(
        trx.raw('SUM(input_tokens) AS input'),
        trx.raw('SUM(output_tokens) AS output'),
        trx.raw('SUM(cost_usd)::text AS cost'),
      );
    return {
      inputTokens: Number(t?.input ?? 0),
      outputTokens: Number(t?.output ?? 0),
      costUsd: t?.cost ?? '0',
    };
  }

  /** Ends an open child at once (queued, or paused at an approval: no runner holds it). */
  async cancelUnheld(trx: Knex.Transaction, id: string, error: RunError): Promise<void> {
    await trx('agent_runs')
      .where({ id })
      .whereIn('status', ['queued', 'awaiting_approval'])
      .update({
        status: 'cancelled',
        error: JSON.stringify(error),
        completed_at: trx.fn.now(),
        duration_ms: trx.raw('(EXTRACT(EPOCH FROM (now() - COALESCE(started_at, now()))) * 1000)::int'),
        paused_at: null,
        updated_at: trx.fn.now(),
      });
  }

  /**
   * Gives up this claim's lease while the run waits, its cost so far on the row. `running`: a parent parked
   * for its children (it takes no slot of the workspace's cap, and the ghost sweep, which looks for expired
   * leases, passes it by; a child's end or a cancel publishes the event that claims it again).
   * `awaiting_approval`: stopped at an approval gate until a decision or its expiry. False: the claim is no
   * longer ours.
   */
  async releaseToWait(
    trx: Knex.Transaction,
    hold: LeaseHold,
    owner: string,
    status: 'running' | 'awaiting_approval',
    totals: { inputTokens: number; outputTokens: number; costUsd: string; childrenCostUsd: string },
  ): Promise<boolean> {
    const n = await trx('agent_runs')
      .where({ id: hold.id, lease_owner: owner, attempts: hold.attempts, status: 'running' })
      .update({
        status,
        lease_owner: null,
        lease_expires_at: null,
        paused_at: trx.fn.now(),
        ...totalColumns(totals),
        updated_at: trx.fn.now(),
      });
    return n > 0;
  }

  /** Locks a run of the workspace for an approval decision; undefined: not in this workspace. */
  async lockForDecision(
    trx: Knex.Transaction,
    workspaceId: string,
    id: string,
  ): Promise<
    Pick<AgentRunRow, 'id' | 'workspace_id' | 'agent_key' | 'status' | 'correlation_id'> | undefined
  > {
    return trx('agent_runs')
      .where({ id, workspace_id: workspaceId })
      .forUpdate()
      .first('id', 'workspace_id', 'agent_key', 'status', 'correlation_id');
  }

  /** After a decision: runnable again, unheld (`running`, no lease) until a runner claims and resumes it. */
  async resumeDecided(trx: Knex.Transaction, id: string): Promise<void> {
    await trx('agent_runs')
      .where({ id, status: 'awaiting_approval' })
      .update({ status: 'running', updated_at: trx.fn.now() });
  }

  /** Locks a run for the sweeper's approval expiry (still awaiting). */
  async lockAwaiting(trx: Knex.Transaction, id: string): Promise<AgentRunRow | undefined> {
    return trx('agent_runs').where({ id, status: 'awaiting_approval' }).forUpdate().first<AgentRunRow>('*');
  }

  /** Whether the run holds a live lease (a parked parent does not; a cancel must then wake it). */
  async leaseLive(trx: Knex.Transaction, id: string): Promise<boolean> {
    const row = await trx('agent_runs')
      .where({ id })
      .first<{ live: boolean } | undefined>(trx.raw('COALESCE(lease_expires_at > now(), false) AS live'));
    return row?.live ?? false;
  }
}

function totalColumns(t: {
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
  childrenCostUsd: string;
}) {
  return {
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cost_usd: t.costUsd,
    children_cost_usd: t.childrenCostUsd,
  };
}
