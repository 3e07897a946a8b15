import type { Knex } from 'knex';
import { getDatabase } from '@raptorflow/shared';
import type { WorkspaceRole } from '@raptorflow/shared';

export interface Membership {
  workspaceId: string;
  role: WorkspaceRole;
}

export class MembershipService {
  private readonly db: Knex;

  constructor(opts: { db?: Knex } = {}) {
    this.db = opts.db ?? getDatabase();
  }

  async find(userId: string, workspaceId: string): Promise<Membership | undefined> {
    const row = await this.db('workspace_members')
      .where({ user_id: userId, workspace_id: workspaceId })
      .first<{ role: WorkspaceRole } | undefined>('role');
    return row ? { workspaceId, role: row.role } : undefined;
  }

  async oldest(userId: string): Promise<Membership | undefined> {
    const row = await this.db('workspace_members')
      .where({ user_id: userId })
      .orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'workspace_id', order: 'asc' },
      ])
      .first<{ workspace_id: string; role: WorkspaceRole } | undefined>('workspace_id', 'role');
    return row ? { workspaceId: row.workspace_id, role: row.role } : undefined;
  }
}
