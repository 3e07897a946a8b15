import type { Knex } from 'knex';
import { AgentRepository } from '../repositories/agent.repository';
import type { AgentRow } from '../repositories/agent.repository';
import { COUNCIL_OF_LORDS } from './council-of-lords';
import type { LordDefinition } from './council-of-lords';

export interface AgentRegistryOptions {
  db: Knex;
  lords?: readonly LordDefinition[];
}

export class AgentRegistryService {
  private readonly agents: AgentRepository;
  private readonly lords: readonly LordDefinition[];

  constructor(opts: AgentRegistryOptions) {
    this.agents = new AgentRepository(opts.db);
    // Data, not a dependency: the Council is the same everywhere unless a test narrows it.
    this.lords = opts.lords ?? COUNCIL_OF_LORDS;
  }

  /**
   * Gives a workspace its Lords. One statement, ON CONFLICT DO NOTHING on (workspace_id, key): concurrent or
   * repeated deliveries of the same event converge on exactly one row per Lord. Returns how many were new.
   */
  async seedWorkspace(workspaceId: string, trx?: Knex.Transaction): Promise<number> {
    return this.agents.insertMissing(workspaceId, this.lords, trx);
  }

  async listAgents(workspaceId: string): Promise<AgentRow[]> {
    return this.agents.listForWorkspace(workspaceId);
  }
}
