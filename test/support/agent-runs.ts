import type { Knex } from 'knex';
import { AgentRegistryService } from '../../shared/src';
import { newTeam } from './factories';
import type { TestTeam } from './factories';

/** The seven Lords of a workspace, as the seeder would write them. */
export function seedLords(db: Knex, workspaceId: string): Promise<number> {
  return new AgentRegistryService({ db }).seedWorkspace(workspaceId);
}

/**
 * A run written straight to the database, in whatever state a test needs: there is no agent-runner in the
 * gateway tests, so its progress is simulated by writing rows.
 */
export async function insertRun(
  db: Knex,
  workspaceId: string,
  agentKey: string,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; workspace_id: string; created_at: Date }> {
  const agent = await db('agents')
    .where({ workspace_id: workspaceId, key: agentKey })
    .first<{ id: string; default_flow: string }>('id', 'default_flow');
  if (!agent) throw new Error(`no agent ${agentKey} in ${workspaceId}; seed the Lords first`);
  const [row] = await db('agent_runs')
    .insert({
      workspace_id: workspaceId,
      agent_id: agent.id,
      agent_key: agentKey,
      flow: agent.default_flow,
      model: 'fast',
      input: JSON.stringify({ topic: 't' }),
      ...overrides,
    })
    .returning<Array<{ id: string; workspace_id: string; created_at: Date }>>([
      'id',
      'workspace_id',
      'created_at',
    ]);
  return row!;
}

/** A team (owner, admin, member) whose workspace has its Lords, and the header naming that workspace. */
export async function lordsTeam(db: Knex): Promise<TestTeam & { h: { headers: Record<string, string> } }> {
  const t = await newTeam(db);
  await seedLords(db, t.ws.id);
  return { ...t, h: { headers: { 'x-workspace-id': t.ws.id } } };
}

/** Every field of a run as the API shows it (list items, cancel answers). */
export const RUN_KEYS = [
  'agent',
  'completed_at',
  'cost_usd',
  'created_at',
  'duration_ms',
  'error',
  'flow',
  'id',
  'input',
  'input_tokens',
  'model',
  'output',
  'output_tokens',
  'started_at',
  'status',
];
