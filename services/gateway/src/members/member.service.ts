import type { Knex } from 'knex';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { ConflictError, NotFoundError, PermissionDeniedError } from '@raptorflow/core/errors/app-error';
import { getDatabase } from '@raptorflow/core/db/database';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { MembershipService } from '../workspaces/membership.service';

export interface MemberView {
  user_id: string;
  role: WorkspaceRole;
  created_at: string;
  updated_at: string;
}

export interface Actor {
  userId: string;
  role: WorkspaceRole;
}

interface MemberRow {
  user_id: string;
  role: WorkspaceRole;
  created_at: Date;
  updated_at: Date;
}

export interface MemberServiceOptions {
  db?: Knex;
  audit?: AuditLogService;
  memberships: MembershipService;
}

/**
 * Membership writes. Each runs in a transaction that first locks the workspace row, so two concurrent
 * changes (two owners demoting each other, say) are serialized and the last-owner rule cannot be raced.
 */
export class MemberService {
  private readonly db: Knex;
  private readonly audit: AuditLogService;
  private readonly memberships: MembershipService;

  constructor(opts: MemberServiceOptions) {
    this.db = opts.db ?? getDatabase();
    this.audit = opts.audit ?? new AuditLogService({ db: this.db });
    this.memberships = opts.memberships;
  }

  async list(workspaceId: string, limit: number, after?: Keyset): Promise<KeysetPage<MemberView>> {
    const q = this.db('workspace_members')
      .where({ workspace_id: workspaceId })
      .select<Array<MemberRow & { id: string }>>('id', 'user_id', 'role', 'created_at', 'updated_at')
      .orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(limit + 1);
    if (after) q.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [after.t, after.id]);
    return keysetPage(await q, limit, toView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async add(actor: Actor, workspaceId: string, userId: string, role: WorkspaceRole): Promise<MemberView> {
    const view = await this.db.transaction(async (trx) => {
      actor = await lockWorkspace(trx, workspaceId, actor);
      if (role === 'owner' && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can grant the owner role');
      const existing = await findMember(trx, workspaceId, userId);
      if (existing)
        throw new ConflictError('This user is already a member of the workspace', { role: existing.role });
      const [row] = await trx('workspace_members')
        .insert({ workspace_id: workspaceId, user_id: userId, role })
        .returning<MemberRow[]>(['user_id', 'role', 'created_at', 'updated_at']);
      await this.auditChange(trx, 'member.added', workspaceId, userId, null, { role });
      return toView(row!);
    });
    await this.memberships.invalidate(userId);
    return view;
  }

  async changeRole(
    actor: Actor,
    workspaceId: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<MemberView> {
    const view = await this.db.transaction(async (trx) => {
      actor = await lockWorkspace(trx, workspaceId, actor);
      const current = await findMember(trx, workspaceId, userId);
      if (!current) throw new NotFoundError('No such member in this workspace');
      if ((current.role === 'owner' || role === 'owner') && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can grant or revoke the owner role');
      if (current.role === role) return toView(current);
      if (current.role === 'owner') await assertNotLastOwner(trx, workspaceId, 'demoted');
      const [row] = await trx('workspace_members')
        .where({ workspace_id: workspaceId, user_id: userId })
        .update({ role, updated_at: trx.fn.now() })
        .returning<MemberRow[]>(['user_id', 'role', 'created_at', 'updated_at']);
      await this.auditChange(
        trx,
        'member.role_changed',
        workspaceId,
        userId,
        { role: current.role },
        { role },
      );
      return toView(row!);
    });
    await this.memberships.invalidate(userId);
    return view;
  }

  async remove(actor: Actor, workspaceId: string, userId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      actor = await lockWorkspace(trx, workspaceId, actor);
      const current = await findMember(trx, workspaceId, userId);
      if (!current) throw new NotFoundError('No such member in this workspace');
      if (current.role === 'owner' && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can remove an owner');
      if (current.role === 'owner') await assertNotLastOwner(trx, workspaceId, 'removed');
      await trx('workspace_members').where({ workspace_id: workspaceId, user_id: userId }).delete();
      await this.auditChange(trx, 'member.removed', workspaceId, userId, { role: current.role }, null);
    });
    await this.memberships.invalidate(userId);
  }

  private auditChange(
    trx: Knex.Transaction,
    action: string,
    workspaceId: string,
    userId: string,
    before: unknown,
    after: unknown,
  ): Promise<boolean> {
    return this.audit.record(
      {
        action,
        workspaceId,
        resourceType: 'workspace_member',
        resourceId: userId,
        input: { before, after },
        output: after,
      },
      trx,
    );
  }
}

/**
 * Locks the workspace row, then re-reads the actor's role under that lock: the guard's answer may be a few
 * milliseconds (or a cache TTL) old, and a concurrent change may just have demoted the actor.
 */
async function lockWorkspace(trx: Knex.Transaction, workspaceId: string, actor: Actor): Promise<Actor> {
  const ws = await trx('workspaces').where({ id: workspaceId }).forUpdate().first('id');
  if (!ws) throw new NotFoundError('Workspace not found');
  const current = await findMember(trx, workspaceId, actor.userId);
  if (!current || current.role === 'member')
    throw new PermissionDeniedError('You no longer have the admin role in this workspace');
  return { userId: actor.userId, role: current.role };
}

function findMember(
  trx: Knex.Transaction,
  workspaceId: string,
  userId: string,
): Promise<MemberRow | undefined> {
  return trx('workspace_members')
    .where({ workspace_id: workspaceId, user_id: userId })
    .first<MemberRow | undefined>('user_id', 'role', 'created_at', 'updated_at');
}

async function assertNotLastOwner(trx: Knex.Transaction, workspaceId: string, verb: string): Promise<void> {
  const [row] = await trx('workspace_members')
    .where({ workspace_id: workspaceId, role: 'owner' })
    .count<{ n: string }[]>('* as n');
  if (Number(row?.n) <= 1)
    throw new ConflictError(`The last owner of a workspace cannot be ${verb}; make someone else owner first`);
}

function toView(r: MemberRow): MemberView {
  return {
    user_id: r.user_id,
    role: r.role,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
