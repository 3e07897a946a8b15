/** One row of `event_outbox`: an event written with the change that caused it, until Redis has its job. */
export interface EventOutboxRow {
  id: string;
  event_type: string;
  queue: string;
  workspace_id: string | null;
  envelope: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  available_at: Date;
  enqueued_at: Date | null;
}
