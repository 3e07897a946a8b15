import type { Knex } from 'knex';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { Keyset } from '@raptorflow/core/validation/pagination';
import type { WorkspaceGuardrailRow, WorkspaceMemberRow, WorkspaceRow } from './workspace.rows';
import { orderByKeyset } from './keyset';

/** A workspace as its members see it: the workspace's columns plus the reader's role. */
export type WorkspaceViewRow = Pick<WorkspaceRow, 'id' | 'name' | 'created_at'> & { role: WorkspaceRole };

/** A membership as the API shows it. */
export type MemberViewRow = Pick<WorkspaceMemberRow, 'user_id' | 'role' | 'created_at' | 'updated_at'>;

const MEMBER_VIEW = ['user_id', 'role', 'created_at', 'updated_at'] as const;

/**
 * All SQL of the workspaces aggregate: `workspaces`, `workspace_members` and `workspace_guardrails`. Writes
 * that must commit with an audit row or an outbox row take the caller's transaction.
 */
export class WorkspaceRepository {
  constructor(private readonly db: Knex) {}

  // ── workspaces ────────────────────────────────────────────────────────────────────────────────────────

  /** Serialises one user's workspace creations (so concurrent creates count one after another). */
  async lockCreationsOf(trx: Knex.Transaction, userId: string): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`workspace-create:${userId}`]);
  }

  async insert(
    trx: Knex.Transaction,
    name: string,
    createdBy: string,
  ): Promise<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'>> {
    const [ws] = await trx('workspaces')
      .insert({ name, created_by: createdBy })
      .returning<Array<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'>>>(['id', 'name', 'created_at']);
    if (!ws) throw new Error('workspace insert returned no row');
    return ws;
  }

  async find(id: string): Promise<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'> | undefined> {
    return this.db('workspaces')
      .where({ id })
      .first<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'> | undefined>('id', 'name', 'created_at');
  }

  /** The workspace, locked FOR UPDATE until the transaction ends: a rename reads its `before` under it. */
  async findForUpdate(
    trx: Knex.Transaction,
    id: string,
  ): Promise<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'> | undefined> {
    return trx('workspaces')
      .where({ id })
      .forUpdate()
      .first<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'> | undefined>('id', 'name', 'created_at');
  }

  async rename(
    trx: Knex.Transaction,
    id: string,
    name: string,
  ): Promise<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'>> {
    const [ws] = await trx('workspaces')
      .where({ id })
      .update({ name, updated_at: trx.fn.now() })
      .returning<Array<Pick<WorkspaceRow, 'id' | 'name' | 'created_at'>>>(['id', 'name', 'created_at']);
    if (!ws) throw new Error('workspace rename matched no row');
    return ws;
  }

  /** Locks the workspace row: FOR UPDATE serialises membership changes, FOR SHARE only keeps it alive. */
  async lock(trx: Knex.Transaction, id: string, mode: 'update' | 'share'): Promise<boolean> {
    const q = trx('workspaces').where({ id }).first('id');
    const row = await (mode === 'update' ? q.forUpdate() : q.forShare());
    return row !== undefined;
  }

  /** The user's workspaces with the user's role, oldest first, `limit` rows after the keyset. */
  async listForUser(userId: string, limit: number, after?: Keyset): Promise<WorkspaceViewRow[]> {
    const q = this.db('workspaces as w')
      .join('workspace_members as m', 'm.workspace_id', 'w.id')
      .where('m.user_id', userId)
      .select<WorkspaceViewRow[]>('w.id', 'w.name', 'm.role', 'w.created_at')
      .limit(limit);
    return orderByKeyset(q, 'asc', after, 'w');
  }

  // ── workspace_members ─────────────────────────────────────────────────────────────────────────────────

  async countOwnedBy(trx: Knex.Transaction, userId: string): Promise<number> {
    const [row] = await trx('workspace_members')
      .where({ user_id: userId, role: 'owner' })
      .count<Array<{ n: string }>>('* as n');
    return Number(row?.n ?? 0);
  }

  async countOwners(trx: Knex.Transaction, workspaceId: string): Promise<number> {
    const [row] = await trx('workspace_members')
      .where({ workspace_id: workspaceId, role: 'owner' })
      .count<Array<{ n: string }>>('* as n');
    return Number(row?.n ?? 0);
  }

  async addMember(
    trx: Knex.Transaction,
    workspaceId: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<MemberViewRow> {
    const [row] = await trx('workspace_members')
      .insert({ workspace_id: workspaceId, user_id: userId, role })
      .returning<MemberViewRow[]>([...MEMBER_VIEW]);
    return row!;
  }

  async member(
    workspaceId: string,
    userId: string,
    trx?: Knex.Transaction,
  ): Promise<MemberViewRow | undefined> {
    return (trx ?? this.db)('workspace_members')
      .where({ workspace_id: workspaceId, user_id: userId })
      .first<MemberViewRow | undefined>(...MEMBER_VIEW);
  }

  /** The user's oldest membership (ties broken by workspace id), for requests that name no workspace. */
  async oldestMembership(
    userId: string,
  ): Promise<Pick<WorkspaceMemberRow, 'workspace_id' | 'role'> | undefined> {
    return this.db('workspace_members')
      .where({ user_id: userId })
      .orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'workspace_id', order: 'asc' },
      ])
      .first<Pick<WorkspaceMemberRow, 'workspace_id' | 'role'> | undefined>('workspace_id', 'role');
  }

  /** The workspace's members, oldest first, `limit` rows after the keyset. */
  async listMembers(
    workspaceId: string,
    limit: number,
    after?: Keyset,
  ): Promise<Array<MemberViewRow & { id: string }>> {
    const q = this.db('workspace_members')
      .where({ workspace_id: workspaceId })
      .select<Array<MemberViewRow & { id: string }>>('id', ...MEMBER_VIEW)
      .limit(limit);
    return orderByKeyset(q, 'asc', after);
  }

  async changeRole(
    trx: Knex.Transaction,
    workspaceId: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<MemberViewRow> {
    const [row] = await trx('workspace_members')
      .where({ workspace_id: workspaceId, user_id: userId })
      .update({ role, updated_at: trx.fn.now() })
      .returning<MemberViewRow[]>([...MEMBER_VIEW]);
    return row!;
  }

  async removeMember(trx: Knex.Transaction, workspaceId: string, userId: string): Promise<void> {
    await trx('workspace_members').where({ workspace_id: workspaceId, user_id: userId }).delete();
  }

  // ── workspace_guardrails ──────────────────────────────────────────────────────────────────────────────

  /** The stored rules as written (the caller parses them); `lock` takes the row for an update. */
  async guardrails(
    workspaceId: string,
    trx?: Knex.Transaction,
    lock = false,
  ): Promise<(Pick<WorkspaceGuardrailRow, 'updated_at'> & { rules: unknown }) | undefined> {
    const query = (trx ?? this.db)('workspace_guardrails')
      .where({ workspace_id: workspaceId })
      .first<(Pick<WorkspaceGuardrailRow, 'updated_at'> & { rules: unknown }) | undefined>(
        'rules',
        'updated_at',
      );
    if (lock) query.forUpdate();
    return query;
  }

  async upsertGuardrails(
    trx: Knex.Transaction,
    workspaceId: string,
    rules: WorkspaceGuardrailRow['rules'],
    updatedBy: string,
  ): Promise<void> {
    const json = JSON.stringify(rules);
    await trx('workspace_guardrails')
      .insert({ workspace_id: workspaceId, rules: json, updated_by: updatedBy })
      .onConflict('workspace_id')
      .merge({ rules: json, updated_by: updatedBy, updated_at: trx.fn.now() });
  }
}
