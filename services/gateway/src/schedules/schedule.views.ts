import type { ScheduleRow } from '@raptorflow/data/repositories/schedule.rows';
import type { ScheduleView } from './schedule.schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toScheduleView(r: ScheduleRow): ScheduleView {
  return {
    id: r.id,
    agent: r.agent_key,
    input: r.input,
    model: r.model,
    cron: r.cron,
    timezone: r.timezone,
    paused: r.paused,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    last_fired_at: iso(r.last_fired_at),
    next_run_at: iso(r.paused ? null : r.next_run_at),
  };
}
