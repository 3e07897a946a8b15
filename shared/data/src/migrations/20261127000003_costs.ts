import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cost_logs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('agent_run_id').references('id').inTable('agent_runs').onDelete('SET NULL');
    t.uuid('reservation_id');
    t.uuid('actor_user_id');
    t.text('provider').notNullable();
    t.text('model').notNullable();
    t.text('alias');
    t.bigInteger('input_tokens').notNullable().defaultTo(0);
    t.bigInteger('output_tokens').notNullable().defaultTo(0);
    t.bigInteger('cached_input_tokens').notNullable().defaultTo(0);
    t.bigInteger('cache_write_tokens').notNullable().defaultTo(0);
    t.bigInteger('thinking_tokens').notNullable().defaultTo(0);
    // Exact decimal: costs of single calls are fractions of a cent and must add up without drift.
    t.decimal('cost_usd', 20, 10).notNullable();
    t.text('pricing_version');
    t.text('correlation_id');
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'created_at']);
    t.index(['workspace_id', 'model', 'created_at']);
    t.index(['agent_run_id']);
  });
  await knex.raw(`ALTER TABLE cost_logs ADD CONSTRAINT cost_logs_nonnegative CHECK (cost_usd >= 0)`);

  await knex.schema.createTable('cost_rollups', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('period').notNullable();
    t.date('period_start').notNullable();
    t.text('model').notNullable();
    t.bigInteger('calls').notNullable().defaultTo(0);
    t.bigInteger('input_tokens').notNullable().defaultTo(0);
    t.bigInteger('output_tokens').notNullable().defaultTo(0);
    t.bigInteger('cached_input_tokens').notNullable().defaultTo(0);
    t.bigInteger('thinking_tokens').notNullable().defaultTo(0);
    t.decimal('spent_usd', 20, 10).notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.unique(['workspace_id', 'period', 'period_start', 'model']);
  });
  await knex.raw(
    `ALTER TABLE cost_rollups ADD CONSTRAINT cost_rollups_period_check CHECK (period IN ('month','day'))`,
  );

  await knex.schema.createTable('cost_rollup_folds', (t) => {
    // One row per folded cost row: a redelivered cost.recorded finds its row here and folds nothing twice.
    t.uuid('cost_log_id').primary().references('id').inTable('cost_logs').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.timestamp('folded_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'folded_at']);
  });

  await knex.schema.createTable('budget_reservations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.date('month').notNullable();
    t.decimal('amount_usd', 20, 10).notNullable();
    t.decimal('settled_cost_usd', 20, 10);
    t.text('status').notNullable().defaultTo('active');
    t.uuid('agent_run_id').references('id').inTable('agent_runs').onDelete('SET NULL');
    t.text('model');
    t.text('correlation_id');
    t.timestamp('expires_at', { useTz: true, precision: 3 }).notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'month', 'status']);
    t.index(['status', 'expires_at']);
  });
  await knex.raw(
    `ALTER TABLE budget_reservations ADD CONSTRAINT budget_reservations_status_check CHECK (status IN ('active','settled','released','expired'))`,
  );
  await knex.raw(
    `ALTER TABLE budget_reservations ADD CONSTRAINT budget_reservations_amount_check CHECK (amount_usd >= 0)`,
  );

  await knex.schema.createTable('budget_alerts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.date('month').notNullable();
    t.integer('threshold_percent').notNullable();
    t.decimal('spent_usd', 20, 10).notNullable();
    t.decimal('budget_usd', 20, 10).notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    // An alert fires once per workspace, month and threshold.
    t.unique(['workspace_id', 'month', 'threshold_percent']);
  });
  await knex.raw(
    `ALTER TABLE budget_alerts ADD CONSTRAINT budget_alerts_threshold_check CHECK (threshold_percent BETWEEN 1 AND 1000)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('budget_alerts');
  await knex.schema.dropTableIfExists('budget_reservations');
  await knex.schema.dropTableIfExists('cost_rollup_folds');
  await knex.schema.dropTableIfExists('cost_rollups');
  await knex.schema.dropTableIfExists('cost_logs');
}
