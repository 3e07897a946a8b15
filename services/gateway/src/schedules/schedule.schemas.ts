import { z } from 'zod';
import { listQuerySchema } from '@raptorflow/core/validation/pagination';
import { isTimeZone, nextTickAt } from '@raptorflow/events/runs/schedule-timer.service';

// The guard reads workspace_id from the query; strict query schemas must let it through.
const workspaceIdQuery = z.uuid().optional();

/** Checked by BullMQ's own parser (what the scheduler will run), read in UTC here; the zone is checked next. */
const cron = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((c) => nextTickAt(c, 'UTC') !== undefined, {
    message: 'not a cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first',
  })
  .meta({
    example: '0 9 * * 1',
    description: 'Minute hour day-of-month month day-of-week (seconds first, optional)',
  });

const timezone = z
  .string()
  .min(1)
  .max(100)
  .refine(isTimeZone, { message: 'not an IANA time zone (e.g. Europe/Berlin, UTC)' })
  .meta({ example: 'Europe/Berlin' });

const model = z
  .string()
  .min(1)
  .max(100)
  .meta({ description: "An alias (fast, standard, heavy) or a priced model id; default the agent's" });

/** The Lord decides the flow, so `input` is only an object here; its flow's schema checks it next. */
export const createScheduleBody = z.strictObject({
  agent: z.string().min(1).max(64).meta({ example: 'seer' }),
  input: z.record(z.string(), z.unknown()),
  model: model.optional(),
  cron,
  timezone: timezone.default('UTC'),
  paused: z.boolean().default(false),
});

export const updateScheduleBody = z.strictObject({
  input: z.record(z.string(), z.unknown()).optional(),
  model: model.nullable().optional().meta({ description: "null: the agent's default model" }),
  cron: cron.optional(),
  timezone: timezone.optional(),
  paused: z.boolean().optional(),
});

export const scheduleIdParams = z.object({ id: z.uuid() });

export const scheduleListQuery = z.strictObject({
  ...listQuerySchema.shape,
  agent: z.string().min(1).max(64).optional().meta({ description: 'An agent key, e.g. seer' }),
  workspace_id: workspaceIdQuery,
});

const instant = z.iso.datetime();

export const scheduleSchema = z.object({
  id: z.uuid(),
  agent: z.string().meta({ example: 'seer' }),
  input: z.record(z.string(), z.unknown()),
  model: z.string().nullable(),
  cron: z.string(),
  timezone: z.string(),
  paused: z.boolean(),
  created_by: z.uuid().nullable(),
  created_at: instant,
  updated_at: instant,
  last_fired_at: instant.nullable().meta({ description: 'The latest tick that created a run' }),
  next_run_at: instant.nullable().meta({ description: 'The next tick; null while paused' }),
});
export type ScheduleView = z.output<typeof scheduleSchema>;
