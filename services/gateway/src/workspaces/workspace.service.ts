import type { Knex } from 'knex';
import { ConflictError } from '@raptorflow/core/errors/app-error';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import { getDatabase } from '@raptorflow/core/db/database';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { MembershipService } from './membership.service';

export interface WorkspaceView {
  id: string;
  name: string;
  role: WorkspaceRole;
  created_at: string;
}

interface WorkspaceRow {
  id: string;
  name: string;
  role: WorkspaceRole;
  created_at: Date;
}

export interface WorkspaceServiceOptions {
  db?: Knex;
  bus?: RaptorBus;
  memberships?: MembershipService;
  /** MAX_WORKSPACES_PER_USER: workspaces one user may own; each brings its own monthly budget. */
  maxOwnedPerUser?: number;
}

export const DEFAULT_MAX_WORKSPACES_PER_USER = 10;

export class WorkspaceService {
  private readonly db: Knex;
  private readonly bus: RaptorBus;
  private readonly memberships: MembershipService | undefined;
  private readonly maxOwned: number;

  constructor(opts: WorkspaceServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.bus = opts.bus ?? getBus();
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
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`workspace-create:${userId}`]);
      const owned = await trx('workspace_members')
        .where({ user_id: userId, role: 'owner' })
        .count<{ n: string }[]>('* as n');
      if (Number(owned[0]?.n ?? 0) >= this.maxOwned)
        throw new ConflictError(
          `You already own ${this.maxOwned} workspaces, the most one user may own (MAX_WORKSPACES_PER_USER); delete or hand one over first`,
          { max_workspaces_per_user: this.maxOwned },
        );
      const [ws] = await trx('workspaces')
        .insert({ name, created_by: userId })
        .returning<{ id: string; name: string; created_at: Date }[]>(['id', 'name', 'created_at']);
      if (!ws) throw new Error('workspace insert returned no row');
      await trx('workspace_members').insert({ workspace_id: ws.id, user_id: userId, role: 'owner' });
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
    const q = this.db('workspaces as w')
      .join('workspace_members as m', 'm.workspace_id', 'w.id')
      .where('m.user_id', userId)
      .select<WorkspaceRow[]>('w.id', 'w.name', 'm.role', 'w.created_at')
      .orderBy([
        { column: 'w.created_at', order: 'asc' },
        { column: 'w.id', order: 'asc' },
      ])
      .limit(limit + 1);
    if (after) q.whereRaw('(w.created_at, w.id) > (?::timestamptz, ?::uuid)', [after.t, after.id]);
    return keysetPage(await q, limit, toView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async getForMember(workspaceId: string, role: WorkspaceRole): Promise<WorkspaceView | undefined> {
    const ws = await this.db('workspaces')
      .where({ id: workspaceId })
      .first<WorkspaceRow | undefined>('id', 'name', 'created_at');
    return ws ? toView({ ...ws, role }) : undefined;
  }
}

function toView(r: WorkspaceRow): WorkspaceView {
  return { id: r.id, name: r.name, role: r.role, created_at: r.created_at.toISOString() };
}
