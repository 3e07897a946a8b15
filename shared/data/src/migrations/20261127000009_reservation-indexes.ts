import type { Knex } from 'knex';

/**
 * Every dispatch inserts a reservation and flips its status once: each index on the table is paid twice per
 * model call. The partial index on active reservations' expiry (migration 6) serves every query there is
 * (reclaiming, by workspace or not), so these two only cost writes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS budget_reservations_workspace_id_month_status_index');
  await knex.raw('DROP INDEX IF EXISTS budget_reservations_status_expires_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('budget_reservations', (t) => {
    t.index(['workspace_id', 'month', 'status']);
    t.index(['status', 'expires_at']);
  });
}
