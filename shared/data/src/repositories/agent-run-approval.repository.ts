import type { Knex } from 'knex';
import type { AgentRunApprovalRow, ApprovalDecision } from './agent-run.rows';

export type ApprovalViewRow = Pick<
  AgentRunApprovalRow,
  | 'id'
  | 'gate'
  | 'request'
  | 'requested_at'
  | 'expires_at'
  | 'decision'
  | 'decided_by'
  | 'decided_at'
  | 'edited_content'
  | 'note'
>;

const VIEW_COLUMNS = [
  'id',
  'gate',
  'request',
  'requested_at',
  'expires_at',
  'decision',
  'decided_by',
  'decided_at',
  'edited_content',
  'note',
] as const;

/** All SQL of `agent_run_approvals`: asked by the runner at a gate, decided through the API, expired by the sweeper. */
export class AgentRunApprovalRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Asks (once per run and gate: a runner that crashed after asking and resumed asks the same row again, keeping
   * its first deadline). Returns the pending row.
   */
  async request(
    trx: Knex.Transaction,
    a: { run_id: string; workspace_id: string; gate: string; request: unknown; ttlMs: number },
  ): Promise<ApprovalViewRow> {
    await trx.raw(
      `INSERT INTO agent_run_approvals (run_id, workspace_id, gate, request, expires_at)
       VALUES (?, ?, ?, ?::jsonb, now() + make_interval(secs => ?::double precision / 1000))
       ON CONFLICT (run_id, gate) DO NOTHING`,
      [a.run_id, a.workspace_id, a.gate, JSON.stringify(a.request), a.ttlMs],
    );
    return trx('agent_run_approvals')
      .where({ run_id: a.run_id, gate: a.gate })
      .first<ApprovalViewRow>(...VIEW_COLUMNS);
  }

  /** The run's approval waiting for a decision, locked (one at a time: the run is paused at it). */
  async lockPending(trx: Knex.Transaction, runId: string): Promise<ApprovalViewRow | undefined> {
    return trx('agent_run_approvals')
      .where({ run_id: runId })
      .whereNull('decision')
      .forUpdate()
      .first<ApprovalViewRow | undefined>(...VIEW_COLUMNS);
  }

  async decide(
    trx: Knex.Transaction,
    id: string,
    d: { decision: ApprovalDecision; decided_by: string; edited_content: string | null; note: string | null },
  ): Promise<ApprovalViewRow> {
    const [row] = await trx('agent_run_approvals')
      .where({ id })
      .whereNull('decision')
      .update({ ...d, decided_at: trx.fn.now() })
      .returning<ApprovalViewRow[]>([...VIEW_COLUMNS]);
    return row!;
  }

  /** The decision a resuming run's gate gets (the newest decided approval of that gate). */
  async decided(runId: string, gate: string): Promise<ApprovalViewRow | undefined> {
    return this.db('agent_run_approvals')
      .where({ run_id: runId, gate })
      .whereIn('decision', ['approve', 'reject', 'edit'])
      .first<ApprovalViewRow | undefined>(...VIEW_COLUMNS);
  }

  /** A run's approvals, oldest first (the API's run detail). */
  async forRun(workspaceId: string, runId: string): Promise<ApprovalViewRow[]> {
    return this.db('agent_run_approvals')
      .where({ run_id: runId, workspace_id: workspaceId })
      .orderBy([{ column: 'requested_at' }, { column: 'id' }])
      .select<ApprovalViewRow[]>(...VIEW_COLUMNS);
  }

  /** Marks pending approvals past their deadline as expired (at most `limit`), returning their runs. */
  async expire(trx: Knex.Transaction, limit: number): Promise<Array<{ id: string; run_id: string }>> {
    const { rows } = await trx.raw<{ rows: Array<{ id: string; run_id: string }> }>(
      `UPDATE agent_run_approvals SET decision = 'expired', decided_at = now()
        WHERE id IN (SELECT id FROM agent_run_approvals
                      WHERE decision IS NULL AND expires_at < now()
                      ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING id, run_id`,
      [limit],
    );
    return rows;
  }
}
