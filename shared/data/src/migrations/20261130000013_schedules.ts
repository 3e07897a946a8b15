import type { Knex } from 'knex';

/**
 * Schedules: a Lord, its flow input and a cron expression in an IANA time zone; BullMQ job schedulers fire the
 * ticks. `schedule_ticks` is the exactly-once ledger of those ticks: its primary key (schedule, tick time) is
 * what stops two runner replicas, or a retried tick job, from creating a second run for the same tick. A tick
 * skipped (the workspace budget is paused or spent) is recorded there too, so a retry does not audit it twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE schedules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      agent_key text NOT NULL CHECK (char_length(agent_key) BETWEEN 1 AND 64),
      input jsonb NOT NULL DEFAULT '{}'::jsonb,
      model text NULL CHECK (model IS NULL OR char_length(model) BETWEEN 1 AND 100),
      cron text NOT NULL CHECK (char_length(cron) BETWEEN 1 AND 200),
      timezone text NOT NULL CHECK (char_length(timezone) BETWEEN 1 AND 100),
      paused boolean NOT NULL DEFAULT false,
      created_by uuid NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      last_fired_at timestamptz(3) NULL,
      next_run_at timestamptz(3) NULL
    )`);
  await knex.raw(`CREATE INDEX schedules_list ON schedules (workspace_id, created_at, id)`);
  await knex.raw(`
    CREATE TABLE schedule_ticks (
      schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
      scheduled_for timestamptz(3) NOT NULL,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      outcome text NOT NULL CHECK (outcome IN ('run_created','skipped')),
      agent_run_id uuid NULL REFERENCES agent_runs(id) ON DELETE SET NULL,
      reason text NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (schedule_id, scheduled_for)
    )`);
  await knex.raw(
    `CREATE INDEX schedule_ticks_run ON schedule_ticks (agent_run_id) WHERE agent_run_id IS NOT NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS schedule_ticks`);
  await knex.raw(`DROP TABLE IF EXISTS schedules`);
}
