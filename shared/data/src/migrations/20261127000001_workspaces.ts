import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('workspaces', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.uuid('created_by').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `ALTER TABLE workspaces ADD CONSTRAINT workspaces_name_length CHECK (char_length(name) BETWEEN 1 AND 200)`,
  );

  await knex.schema.createTable('workspace_members', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('user_id').notNullable();
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.unique(['workspace_id', 'user_id']);
    // "the user's oldest membership" and "the user's workspaces" both walk this index.
    t.index(['user_id', 'created_at', 'workspace_id']);
    t.index(['workspace_id', 'role']);
  });
  await knex.raw(
    `ALTER TABLE workspace_members ADD CONSTRAINT workspace_members_role_check CHECK (role IN ('owner','admin','member'))`,
  );

  await knex.schema.createTable('workspace_budgets', (t) => {
    t.uuid('workspace_id').primary().references('id').inTable('workspaces').onDelete('CASCADE');
    t.decimal('monthly_budget_usd', 20, 10).notNullable();
    t.uuid('updated_by');
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `ALTER TABLE workspace_budgets ADD CONSTRAINT workspace_budgets_nonnegative CHECK (monthly_budget_usd >= 0)`,
  );

  await knex.schema.createTable('workspace_guardrails', (t) => {
    t.uuid('workspace_id').primary().references('id').inTable('workspaces').onDelete('CASCADE');
    // {banned_phrases: string[], banned_claims: string[], required_disclaimers: string[]}
    t.jsonb('rules').notNullable().defaultTo(knex.raw(`'{}'::jsonb`));
    t.uuid('updated_by');
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('workspace_guardrails');
  await knex.schema.dropTableIfExists('workspace_budgets');
  await knex.schema.dropTableIfExists('workspace_members');
  await knex.schema.dropTableIfExists('workspaces');
}
