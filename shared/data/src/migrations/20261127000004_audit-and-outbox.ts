import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_logs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.text('action').notNullable();
    t.text('resource_type');
    t.text('resource_id');
    t.text('tool_name');
    t.jsonb('input');
    t.jsonb('output');
    t.jsonb('metadata').notNullable().defaultTo(knex.raw(`'{}'::jsonb`));
    t.uuid('agent_run_id');
    t.uuid('event_id');
    t.text('correlation_id');
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'created_at', 'id']);
    t.index(['workspace_id', 'action', 'created_at']);
    t.index(['workspace_id', 'actor_id', 'created_at']);
    t.index(['workspace_id', 'resource_type', 'resource_id']);
    t.index(['correlation_id']);
  });
  await knex.raw(
    `ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_actor_type_check CHECK (actor_type IN ('user','agent','system','service'))`,
  );
  // Handlers that audit an event write at most one row per (event, action), however often it is delivered.
  await knex.raw(
    `CREATE UNIQUE INDEX audit_logs_event_action_unique ON audit_logs (event_id, action) WHERE event_id IS NOT NULL`,
  );

  await knex.schema.createTable('event_outbox', (t) => {
    t.uuid('id').primary(); // = envelope.event_id = BullMQ job id
    t.text('event_type').notNullable();
    t.text('queue').notNullable();
    t.uuid('workspace_id').references('id').inTable('workspaces').onDelete('CASCADE');
    t.jsonb('envelope').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('available_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('enqueued_at', { useTz: true, precision: 3 });
    t.index(['enqueued_at']);
  });
  // The relay only ever scans rows still waiting to reach Redis.
  await knex.raw(
    `CREATE INDEX event_outbox_pending_idx ON event_outbox (available_at, created_at) WHERE enqueued_at IS NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_outbox');
  await knex.schema.dropTableIfExists('audit_logs');
}
