import type { Knex } from 'knex';
import { getDatabase } from '@raptorflow/core/db/database';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import { MembershipCache } from './membership-cache';

export interface Membership {
  workspaceId: string;
  role: WorkspaceRole;
}

export interface MembershipServiceOptions {
  db?: Knex;
  cache?: MembershipCache;
}

/** Read side of memberships for the guards, behind the replica-wide invalidated cache. */
export class MembershipService {
  private readonly db: Knex;
  readonly cache: MembershipCache;

  constructor(opts: MembershipServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.cache = opts.cache ?? new MembershipCache({ ttlMs: 0, max: 0 });
  }

  find(userId: string, workspaceId: string): Promise<Membership | undefined> {
    return this.cache.getOrLoad(userId, workspaceId, async () => {
      const row = await this.db('workspace_members')
        .where({ user_id: userId, workspace_id: workspaceId })
        .first<{ role: WorkspaceRole } | undefined>('role');
      return row ? { workspaceId, role: row.role } : undefined;
    });
  }

  oldest(userId: string): Promise<Membership | undefined> {
    return this.cache.getOrLoad(userId, undefined, async () => {
      const row = await this.db('workspace_members')
        .where({ user_id: userId })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'workspace_id', order: 'asc' },
        ])
        .first<{ workspace_id: string; role: WorkspaceRole } | undefined>('workspace_id', 'role');
      return row ? { workspaceId: row.workspace_id, role: row.role } : undefined;
    });
  }

  invalidate(userId: string): Promise<void> {
    return this.cache.invalidate(userId);
  }
}
