import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('name').notNullable();
    t.text('domain').notNullable();
    t.text('description').notNullable();
    t.text('default_flow').notNullable();
    t.text('default_model').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    // Seeding relies on this constraint to stay idempotent under concurrent duplicate events.
    t.unique(['workspace_id', 'key']);
  });
  await knex.raw(
    `ALTER TABLE agents ADD CONSTRAINT agents_default_flow_check CHECK (default_flow IN ('research','muse','matrix','guardian'))`,
  );

  await knex.schema.createTable('agent_runs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE');
    t.text('agent_key').notNullable();
    t.text('flow').notNullable();
    t.text('model').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.jsonb('input').notNullable();
    t.jsonb('output');
    t.jsonb('error');
    t.bigInteger('input_tokens').notNullable().defaultTo(0);
    t.bigInteger('output_tokens').notNullable().defaultTo(0);
    t.decimal('cost_usd', 20, 10).notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.uuid('requested_by');
    t.text('correlation_id');
    t.timestamp('cancel_requested_at', { useTz: true, precision: 3 });
    t.timestamp('heartbeat_at', { useTz: true, precision: 3 });
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true, precision: 3 });
    t.timestamp('completed_at', { useTz: true, precision: 3 });
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    // History pages are (created_at desc, id desc) keyset cursors, optionally filtered by status or agent.
    t.index(['workspace_id', 'created_at', 'id']);
    t.index(['workspace_id', 'status', 'created_at']);
    t.index(['workspace_id', 'agent_key', 'created_at']);
    t.index(['agent_id']);
  });
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_status_check CHECK (status IN ('queued','running','completed','failed','cancelled'))`,
  );
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_flow_check CHECK (flow IN ('research','muse','matrix','guardian'))`,
  );
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_tokens_nonnegative CHECK (input_tokens >= 0 AND output_tokens >= 0 AND cost_usd >= 0)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('agent_runs');
  await knex.schema.dropTableIfExists('agents');
}
