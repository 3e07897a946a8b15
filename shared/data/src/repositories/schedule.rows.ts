/** The row types of the schedules aggregate: one per table. */
export interface ScheduleRow {
  id: string;
  workspace_id: string;
  agent_key: string;
  input: Record<string, unknown>;
  /** The run's model alias or id; null: the Lord's default model when the tick fires. */
  model: string | null;
  /** 5 fields, or 6 with seconds first, as BullMQ's cron parser reads them. */
  cron: string;
  /** IANA time zone the cron is read in (Europe/Berlin). */
  timezone: string;
  paused: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  last_fired_at: Date | null;
  next_run_at: Date | null;
}

export type TickOutcome = 'run_created' | 'skipped';

/** One fired tick: the run it created, or why it was skipped. (schedule_id, scheduled_for) is unique. */
export interface ScheduleTickRow {
  schedule_id: string;
  scheduled_for: Date;
  workspace_id: string;
  outcome: TickOutcome;
  agent_run_id: string | null;
  reason: string | null;
  created_at: Date;
}
