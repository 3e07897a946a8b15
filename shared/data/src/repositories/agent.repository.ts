import type { Knex } from 'knex';
import type { FlowName } from './agent-run.rows';

/** One row of `agents`: a Lord of one workspace. */
export interface AgentRow {
  id: string;
  workspace_id: string;
  key: string;
  name: string;
  domain: string;
  description: string;
  default_flow: FlowName;
  default_model: string;
  created_at: Date;
  updated_at: Date;
}

export type AgentDefinition = Pick<
  AgentRow,
  'key' | 'name' | 'domain' | 'description' | 'default_flow' | 'default_model'
>;

/** All SQL of `agents`: seeding (seeder), listing (gateway), the lookups a run makes (gateway, runner). */
export class AgentRepository {
  constructor(private readonly db: Knex) {}

  /**
   * One statement, ON CONFLICT DO NOTHING on (workspace_id, key): concurrent or repeated deliveries converge
   * on exactly one row per key. Returns how many were new.
   */
  async insertMissing(
    workspaceId: string,
    agents: readonly AgentDefinition[],
    trx?: Knex.Transaction,
  ): Promise<number> {
    const inserted = await (trx ?? this.db)('agents')
      .insert(agents.map((a) => ({ workspace_id: workspaceId, ...a })))
      .onConflict(['workspace_id', 'key'])
      .ignore()
      .returning('id');
    return inserted.length;
  }

  async listForWorkspace(workspaceId: string): Promise<AgentRow[]> {
    return this.db('agents').where({ workspace_id: workspaceId }).orderBy('key', 'asc');
  }

  async findByKey(
    workspaceId: string,
    key: string,
  ): Promise<Pick<AgentRow, 'id' | 'key' | 'default_flow' | 'default_model'> | undefined> {
    return this.db('agents')
      .where({ workspace_id: workspaceId, key })
      .first<Pick<AgentRow, 'id' | 'key' | 'default_flow' | 'default_model'> | undefined>(
        'id',
        'key',
        'default_flow',
        'default_model',
      );
  }

  async persona(id: string): Promise<Pick<AgentRow, 'key' | 'name' | 'domain'> | undefined> {
    return this.db('agents')
      .where({ id })
      .first<Pick<AgentRow, 'key' | 'name' | 'domain'> | undefined>('key', 'name', 'domain');
  }
}
