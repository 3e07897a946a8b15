import type { Knex } from 'knex';

/**
 * A run may be asked for before the seeder has given its workspace the Lords: the gateway then queues it with
 * no agent row, and the runner fills `agent_id` in when the run starts (or fails the run if seeding never
 * comes). Only a run that never started can lack its agent, which the check keeps true.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE agent_runs ALTER COLUMN agent_id DROP NOT NULL`);
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_agent_resolved_check
       CHECK (agent_id IS NOT NULL OR status IN ('queued','failed','cancelled'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT IF EXISTS agent_runs_agent_resolved_check`);
  // Runs whose agent was seeded meanwhile get it; runs whose agent never existed cannot be represented
  // under NOT NULL (they never started: queued, or failed/cancelled before starting), so they go.
  await knex.raw(
    `UPDATE agent_runs r SET agent_id = a.id
       FROM agents a
      WHERE r.agent_id IS NULL AND a.workspace_id = r.workspace_id AND a.key = r.agent_key`,
  );
  await knex('agent_runs').whereNull('agent_id').delete();
  await knex.raw(`ALTER TABLE agent_runs ALTER COLUMN agent_id SET NOT NULL`);
}
