import type { Knex } from 'knex';

/**
 * What running the Lords' flows needs beyond the run row: a lease (one runner at a time, ghost runs found),
 * one row per flow step (memoised output, so a resumed run never pays for a finished step twice), and the
 * run's event log (the SSE stream, replayable from any Last-Event-ID).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agent_runs', (t) => {
    t.text('lease_owner');
    t.timestamp('lease_expires_at', { useTz: true, precision: 3 });
    t.integer('duration_ms');
  });
  // The ghost-run sweeper looks for running runs whose lease ran out.
  await knex.raw(
    `CREATE INDEX agent_runs_running_lease ON agent_runs (lease_expires_at) WHERE status = 'running'`,
  );
  await knex.raw(`CREATE INDEX agent_runs_ws_running ON agent_runs (workspace_id) WHERE status = 'running'`);

  await knex.schema.createTable('agent_run_steps', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('run_id').notNullable().references('id').inTable('agent_runs').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('key').notNullable();
    t.integer('position').notNullable();
    t.text('status').notNullable();
    t.jsonb('output');
    t.jsonb('error');
    t.text('model');
    t.bigInteger('input_tokens').notNullable().defaultTo(0);
    t.bigInteger('output_tokens').notNullable().defaultTo(0);
    t.decimal('cost_usd', 20, 10).notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(1);
    t.timestamp('started_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true, precision: 3 });
    t.unique(['run_id', 'key']);
  });
  await knex.raw(
    `ALTER TABLE agent_run_steps ADD CONSTRAINT agent_run_steps_status_check CHECK (status IN ('running','completed','failed'))`,
  );

  await knex.schema.createTable('agent_run_events', (t) => {
    // The SSE event id: increasing across the whole table, so "everything after Last-Event-ID" is one query.
    t.bigIncrements('id').primary();
    t.uuid('run_id').notNullable().references('id').inTable('agent_runs').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.index(['run_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('agent_run_events');
  await knex.schema.dropTableIfExists('agent_run_steps');
  await knex.raw(`DROP INDEX IF EXISTS agent_runs_ws_running`);
  await knex.raw(`DROP INDEX IF EXISTS agent_runs_running_lease`);
  await knex.schema.alterTable('agent_runs', (t) => {
    t.dropColumns('lease_owner', 'lease_expires_at', 'duration_ms');
  });
}
