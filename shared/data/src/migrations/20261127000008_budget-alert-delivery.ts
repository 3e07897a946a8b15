import type { Knex } from 'knex';

/** Webhook delivery state of a budget alert, so operators can see which alerts reached their receiver. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('budget_alerts', (t) => {
    t.timestamp('delivered_at', { useTz: true, precision: 3 });
    t.integer('delivery_attempts').notNullable().defaultTo(0);
    t.text('last_delivery_error');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('budget_alerts', (t) => {
    t.dropColumns('delivered_at', 'delivery_attempts', 'last_delivery_error');
  });
}
