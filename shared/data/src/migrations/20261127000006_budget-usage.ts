import type { Knex } from 'knex';

/**
 * The dispatcher's admission counters: one row per workspace and UTC month holding what is spent and what is
 * reserved by calls in flight. A reservation is one conditional UPDATE of this row, so concurrent callers
 * are serialised by PostgreSQL's row lock and can never both pass the budget check.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('budget_usage', (t) => {
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.date('month').notNullable();
    t.decimal('spent_usd', 20, 10).notNullable().defaultTo(0);
    t.decimal('reserved_usd', 20, 10).notNullable().defaultTo(0);
    t.bigInteger('calls').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.primary(['workspace_id', 'month']);
  });
  await knex.raw(
    `ALTER TABLE budget_usage ADD CONSTRAINT budget_usage_nonnegative CHECK (spent_usd >= 0 AND reserved_usd >= 0)`,
  );

  await knex.schema.alterTable('cost_logs', (t) => {
    t.text('outcome').notNullable().defaultTo('success');
    t.text('error_code');
    t.integer('latency_ms');
    t.integer('attempts').notNullable().defaultTo(1);
  });
  await knex.raw(
    `ALTER TABLE cost_logs ADD CONSTRAINT cost_logs_outcome_check CHECK (outcome IN ('success','failed','cancelled'))`,
  );
  await knex.raw(
    `CREATE INDEX budget_reservations_active_expiry ON budget_reservations (expires_at) WHERE status = 'active'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS budget_reservations_active_expiry`);
  await knex.raw(`ALTER TABLE cost_logs DROP CONSTRAINT IF EXISTS cost_logs_outcome_check`);
  await knex.schema.alterTable('cost_logs', (t) => {
    t.dropColumns('outcome', 'error_code', 'latency_ms', 'attempts');
  });
  await knex.schema.dropTableIfExists('budget_usage');
}
