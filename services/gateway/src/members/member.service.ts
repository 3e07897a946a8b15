import type { Knex } from 'knex';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { ConflictError, NotFoundError, PermissionDeniedError } from '@raptorflow/core/errors/app-error';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import type { MemberViewRow } from '@raptorflow/data/repositories/workspace.repository';
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

export interface MemberServiceOptions {
  db: Knex;
  audit: AuditLogService;
  memberships: MembershipService;
}

/**
 * Membership writes. Each runs in a transaction that first locks the workspace row, so two concurrent
 * changes (two owners demoting each other, say) are serialized and the last-owner rule cannot be raced.
 */
export class MemberService {
  private readonly db: Knex;
  private readonly workspaces: WorkspaceRepository;
  private readonly audit: AuditLogService;
  private readonly memberships: MembershipService;

  constructor(opts: MemberServiceOptions) {
    this.db = opts.db;
    this.workspaces = new WorkspaceRepository(opts.db);
    this.audit = opts.audit;
    this.memberships = opts.memberships;
  }

  async list(workspaceId: string, limit: number, after?: Keyset): Promise<KeysetPage<MemberView>> {
    // One row more than the page tells keysetPage whether there is a next page.
    const rows = await this.workspaces.listMembers(workspaceId, limit + 1, after);
    return keysetPage(rows, limit, toView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async add(actor: Actor, workspaceId: string, userId: string, role: WorkspaceRole): Promise<MemberView> {
    const view = await this.db.transaction(async (trx) => {
      actor = await this.lockWorkspace(trx, workspaceId, actor);
      if (role === 'owner' && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can grant the owner role');
      const existing = await this.workspaces.member(workspaceId, userId, trx);
      if (existing)
        throw new ConflictError('This user is already a member of the workspace', { role: existing.role });
      const row = await this.workspaces.addMember(trx, workspaceId, userId, role);
      await this.auditChange(trx, 'member.added', workspaceId, userId, null, { role });
      return toView(row);
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
      actor = await this.lockWorkspace(trx, workspaceId, actor);
      const current = await this.workspaces.member(workspaceId, userId, trx);
      if (!current) throw new NotFoundError('No such member in this workspace');
      if ((current.role === 'owner' || role === 'owner') && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can grant or revoke the owner role');
      if (current.role === role) return toView(current);
      if (current.role === 'owner') await this.assertNotLastOwner(trx, workspaceId, 'demoted');
      const row = await this.workspaces.changeRole(trx, workspaceId, userId, role);
      await this.auditChange(
        trx,
        'member.role_changed',
        workspaceId,
        userId,
        { role: current.role },
        { role },
      );
      return toView(row);
    });
    await this.memberships.invalidate(userId);
    return view;
  }

  async remove(actor: Actor, workspaceId: string, userId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      actor = await this.lockWorkspace(trx, workspaceId, actor);
      const current = await this.workspaces.member(workspaceId, userId, trx);
      if (!current) throw new NotFoundError('No such member in this workspace');
      if (current.role === 'owner' && actor.role !== 'owner')
        throw new PermissionDeniedError('Only an owner can remove an owner');
      if (current.role === 'owner') await this.assertNotLastOwner(trx, workspaceId, 'removed');
      await this.workspaces.removeMember(trx, workspaceId, userId);
      await this.auditChange(trx, 'member.removed', workspaceId, userId, { role: current.role }, null);
    });
    await this.memberships.invalidate(userId);
  }

  /**
   * Locks the workspace row, then re-reads the actor's role under that lock: the guard's answer may be a few
   * milliseconds (or a cache TTL) old, and a concurrent change may just have demoted the actor.
   */
  private async lockWorkspace(trx: Knex.Transaction, workspaceId: string, actor: Actor): Promise<Actor> {
    if (!(await this.workspaces.lock(trx, workspaceId, 'update')))
      throw new NotFoundError('Workspace not found');
    const current = await this.workspaces.member(workspaceId, actor.userId, trx);
    if (!current || current.role === 'member')
      throw new PermissionDeniedError('You no longer have the admin role in this workspace');
    return { userId: actor.userId, role: current.role };
  }

  private async assertNotLastOwner(trx: Knex.Transaction, workspaceId: string, verb: string): Promise<void> {
    if ((await this.workspaces.countOwners(trx, workspaceId)) <= 1)
      throw new ConflictError(
        `The last owner of a workspace cannot be ${verb}; make someone else owner first`,
      );
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

function toView(r: MemberViewRow): MemberView {
  return {
    user_id: r.user_id,
    role: r.role,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
