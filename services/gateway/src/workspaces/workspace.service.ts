import type { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@raptorflow/core/errors/app-error';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { WorkspaceViewRow } from '@raptorflow/data/repositories/workspace.repository';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { MembershipService } from './membership.service';

export interface WorkspaceView {
  id: string;
  name: string;
  role: WorkspaceRole;
  created_at: string;
}

export interface WorkspaceServiceOptions {
  db: Knex;
  bus: RaptorBus;
  /** Renames are audited with their before and after. */
  audit: AuditLogService;
  memberships?: MembershipService;
  /** MAX_WORKSPACES_PER_USER: workspaces one user may own; each brings its own monthly budget. */
  maxOwnedPerUser?: number;
}

export const DEFAULT_MAX_WORKSPACES_PER_USER = 10;

export class WorkspaceService {
  private readonly db: Knex;
  private readonly workspaces: WorkspaceRepository;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;
  private readonly memberships: MembershipService | undefined;
  private readonly maxOwned: number;

  constructor(opts: WorkspaceServiceOptions) {
    this.db = opts.db;
    this.workspaces = new WorkspaceRepository(this.db);
    this.bus = opts.bus;
    this.audit = opts.audit;
    this.memberships = opts.memberships;
    this.maxOwned = opts.maxOwnedPerUser ?? DEFAULT_MAX_WORKSPACES_PER_USER;
  }

  /**
   * The workspace, its owner membership and the `workspace.created` outbox row commit together: there is
   * never a workspace without its event, nor an event without its workspace.
   */
  async create(userId: string, name: string): Promise<WorkspaceView> {
    const view = await this.db.transaction(async (trx) => {
      // Every workspace carries a monthly budget, so an unbounded number of them multiplies a user's spend.
      // The per-user lock makes concurrent creates count one after another (none slips past the cap).
      await this.workspaces.lockCreationsOf(trx, userId);
      if ((await this.workspaces.countOwnedBy(trx, userId)) >= this.maxOwned)
        throw new ConflictError(
          `You already own ${this.maxOwned} workspaces, the most one user may own (MAX_WORKSPACES_PER_USER); delete or hand one over first`,
          { max_workspaces_per_user: this.maxOwned },
        );
      const ws = await this.workspaces.insert(trx, name, userId);
      await this.workspaces.addMember(trx, ws.id, userId, 'owner');
      await this.bus.publish(
        'workspace.created',
        { workspace_id: ws.id, name: ws.name, created_by: userId },
        { trx, workspaceId: ws.id },
      );
      return toView({ ...ws, role: 'owner' });
    });
    // A cached "no workspace yet" for this user must not outlive the commit.
    await this.memberships?.invalidate(userId);
    return view;
  }

  /** The user's workspaces, oldest first, keyset-paginated on (created_at, id). */
  async listForUser(userId: string, limit: number, after?: Keyset): Promise<KeysetPage<WorkspaceView>> {
    // One row more than the page tells keysetPage whether there is a next page.
    const rows = await this.workspaces.listForUser(userId, limit + 1, after);
    return keysetPage(rows, limit, toView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  /**
   * A new name (admins and owners; the guard checked the role). The row is locked while the before is read
   * and the audit row written, so two renames at once are audited in the order they happened.
   */
  async rename(workspaceId: string, role: WorkspaceRole, name: string): Promise<WorkspaceView> {
    return this.db.transaction(async (trx) => {
      const before = await this.workspaces.findForUpdate(trx, workspaceId);
      if (!before) throw new NotFoundError('Workspace not found');
      const after = await this.workspaces.rename(trx, workspaceId, name);
      await this.audit.record(
        {
          action: 'workspace.updated',
          workspaceId,
          resourceType: 'workspace',
          resourceId: workspaceId,
          input: { before: { name: before.name }, after: { name: after.name } },
          output: { name: after.name },
        },
        trx,
      );
      return toView({ ...after, role });
    });
  }

  async getForMember(workspaceId: string, role: WorkspaceRole): Promise<WorkspaceView | undefined> {
    const ws = await this.workspaces.find(workspaceId);
    return ws ? toView({ ...ws, role }) : undefined;
  }
}

function toView(r: WorkspaceViewRow): WorkspaceView {
  return { id: r.id, name: r.name, role: r.role, created_at: r.created_at.toISOString() };
}
