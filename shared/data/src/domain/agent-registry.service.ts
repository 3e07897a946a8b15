import type { Knex } from 'knex';
import { getDatabase } from '@raptorflow/core/db/database';
import type { Agent } from '../models/agent.model';
import { COUNCIL_OF_LORDS } from './council-of-lords';
import type { LordDefinition } from './council-of-lords';

export interface AgentRegistryOptions {
  db?: Knex;
  lords?: readonly LordDefinition[];
}

export class AgentRegistryService {
  private readonly db: Knex;
  private readonly lords: readonly LordDefinition[];

  constructor(opts: AgentRegistryOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.lords = opts.lords ?? COUNCIL_OF_LORDS;
  }

  /**
   * Gives a workspace its Lords. One statement, ON CONFLICT DO NOTHING on (workspace_id, key): concurrent or
   * repeated deliveries of the same event converge on exactly one row per Lord. Returns how many were new.
   */
  async seedWorkspace(workspaceId: string, trx?: Knex.Transaction): Promise<number> {
    const rows = this.lords.map((l) => ({ workspace_id: workspaceId, ...l }));
    const inserted = await (trx ?? this.db)('agents')
      .insert(rows)
      .onConflict(['workspace_id', 'key'])
      .ignore()
      .returning('id');
    return inserted.length;
  }

  async listAgents(workspaceId: string): Promise<Agent[]> {
    return this.db('agents').where({ workspace_id: workspaceId }).orderBy('key', 'asc');
  }
}
