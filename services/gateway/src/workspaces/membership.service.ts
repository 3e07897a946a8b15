import type { Knex } from 'knex';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { MembershipCache } from './membership-cache';

export interface Membership {
  workspaceId: string;
  role: WorkspaceRole;
}

export interface MembershipServiceOptions {
  db: Knex;
  cache: MembershipCache;
}

/** Read side of memberships for the guards, behind the replica-wide invalidated cache. */
export class MembershipService {
  private readonly workspaces: WorkspaceRepository;
  readonly cache: MembershipCache;

  constructor(opts: MembershipServiceOptions) {
    this.workspaces = new WorkspaceRepository(opts.db);
    this.cache = opts.cache;
  }

  find(userId: string, workspaceId: string): Promise<Membership | undefined> {
    return this.cache.getOrLoad(userId, workspaceId, async () => {
      const row = await this.workspaces.member(workspaceId, userId);
      return row ? { workspaceId, role: row.role } : undefined;
    });
  }

  oldest(userId: string): Promise<Membership | undefined> {
    return this.cache.getOrLoad(userId, undefined, async () => {
      const row = await this.workspaces.oldestMembership(userId);
      return row ? { workspaceId: row.workspace_id, role: row.role } : undefined;
    });
  }

  invalidate(userId: string): Promise<void> {
    return this.cache.invalidate(userId);
  }
}
