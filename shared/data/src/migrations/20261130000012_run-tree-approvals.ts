import type { Knex } from 'knex';

/**
 * Run trees and human approval (issue 18, items 2 and 3).
 *
 * - `parent_run_id` + `stage`: a campaign's child runs, one per (parent, stage), so a parent that resumes after a
 *   crash finds the child it already created instead of creating (and paying for) another.
 * - `children_cost_usd`: the part of a parent's `cost_usd` that its children spent; statistics subtract it so a
 *   tree's spend is counted once.
 * - `paused_at` / `paused_ms`: time a run spent waiting (for an approval, for its children) without a lease;
 *   the run timeout does not count it.
 * - status `awaiting_approval` and flow `campaign`.
 * - `agent_run_approvals`: one row per approval a run asked for (its gate), with the decision.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agent_runs', (t) => {
    t.uuid('parent_run_id').nullable().references('id').inTable('agent_runs').onDelete('CASCADE');
    t.text('stage').nullable();
    t.decimal('children_cost_usd', 20, 10).notNullable().defaultTo(0);
    t.timestamp('paused_at', { useTz: true }).nullable();
    t.bigInteger('paused_ms').notNullable().defaultTo(0);
  });
  await knex.raw(
    `CREATE INDEX agent_runs_parent ON agent_runs (parent_run_id) WHERE parent_run_id IS NOT NULL`,
  );
  await knex.raw(
    `CREATE UNIQUE INDEX agent_runs_parent_stage ON agent_runs (parent_run_id, stage) WHERE parent_run_id IS NOT NULL`,
  );
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_child_stage_check CHECK ((parent_run_id IS NULL) = (stage IS NULL))`,
  );
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT agent_runs_status_check`);
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_status_check
       CHECK (status IN ('queued','running','awaiting_approval','completed','failed','cancelled'))`,
  );
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT agent_runs_flow_check`);
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_flow_check
       CHECK (flow IN ('research','muse','matrix','guardian','campaign'))`,
  );

  await knex.schema.createTable('agent_run_approvals', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('run_id').notNullable().references('id').inTable('agent_runs').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    // The flow's gate (node) that asked: a run may pass more than one gate, each asks once.
    t.text('gate').notNullable();
    // What the reviewer is shown: the content and why it needs a human (violations, a guardrail rule).
    t.jsonb('request').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.text('decision').nullable();
    t.uuid('decided_by').nullable();
    t.timestamp('decided_at', { useTz: true }).nullable();
    t.text('edited_content').nullable();
    t.text('note').nullable();
    t.unique(['run_id', 'gate']);
    t.index(['workspace_id', 'requested_at']);
  });
  // The sweeper's expiry scan: approvals still waiting for a decision.
  await knex.raw(
    `CREATE INDEX agent_run_approvals_pending ON agent_run_approvals (expires_at) WHERE decision IS NULL`,
  );
  await knex.raw(
    `ALTER TABLE agent_run_approvals ADD CONSTRAINT agent_run_approvals_decision_check
       CHECK (decision IS NULL OR decision IN ('approve','reject','edit','expired'))`,
  );
  await knex.raw(
    `ALTER TABLE agent_run_approvals ADD CONSTRAINT agent_run_approvals_edit_check
       CHECK ((decision = 'edit') = (edited_content IS NOT NULL))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('agent_run_approvals');
  // Runs the older schema cannot represent: waiting ones end as failed, campaign trees go.
  await knex.raw(
    `UPDATE agent_runs SET status = 'failed', completed_at = COALESCE(completed_at, now()),
            error = '{"code":"approval_expired","message":"Rolled back while awaiting approval"}'::jsonb
      WHERE status = 'awaiting_approval'`,
  );
  await knex.raw(`DELETE FROM agent_runs WHERE flow = 'campaign' OR parent_run_id IS NOT NULL`);
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT agent_runs_flow_check`);
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_flow_check CHECK (flow IN ('research','muse','matrix','guardian'))`,
  );
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT agent_runs_status_check`);
  await knex.raw(
    `ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_status_check CHECK (status IN ('queued','running','completed','failed','cancelled'))`,
  );
  await knex.raw(`ALTER TABLE agent_runs DROP CONSTRAINT IF EXISTS agent_runs_child_stage_check`);
  await knex.raw(`DROP INDEX IF EXISTS agent_runs_parent_stage`);
  await knex.raw(`DROP INDEX IF EXISTS agent_runs_parent`);
  await knex.schema.alterTable('agent_runs', (t) => {
    t.dropColumns('parent_run_id', 'stage', 'children_cost_usd', 'paused_at', 'paused_ms');
  });
}
