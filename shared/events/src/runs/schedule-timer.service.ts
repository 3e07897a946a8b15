import { getNextMillis } from 'bullmq';
import type { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import type { ScheduleRow } from '@raptorflow/data/repositories/schedule.rows';
import { buildEnvelope } from '../bus/envelope';
import { jobOptionsFor } from '../bus/event-catalog';
import type { RaptorBus } from '../bus/raptor-bus';

/** Five fields (minute first), six (seconds first), or one of cron's @ names. */
const CRON_SHAPE = /^(?:(?:\S+\s+){4}\S+(?:\s+\S+)?|@(?:yearly|annually|monthly|weekly|daily|hourly))$/;

/**
 * The next tick of `cron` in `timezone` strictly after `from`, computed by BullMQ itself (the parser its job
 * schedulers use), so what the API accepts is exactly what fires. Undefined when the expression is not one
 * BullMQ can schedule (bad field, impossible date, not 5/6 fields): callers turn that into a 422.
 */
export function nextTickAt(cron: string, timezone: string, from = Date.now()): Date | undefined {
  if (!CRON_SHAPE.test(cron.trim())) return undefined;
  try {
    const next = getNextMillis(from, { pattern: cron.trim(), tz: timezone });
    return next === undefined || !Number.isFinite(next) ? undefined : new Date(next);
  } catch {
    return undefined;
  }
}

/** An IANA zone name the runtime knows (`Europe/Berlin`, `UTC`); offsets and abbreviations are refused. */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Job scheduler ids may not contain ':' (BullMQ builds tick job ids as `repeat:<id>:<millis>`). */
export const schedulerIdOf = (scheduleId: string): string => `schedule-${scheduleId}`;

/**
 * The BullMQ job scheduler behind each schedule, on the `agent` queue under the configured prefix. Redis
 * holds one scheduler per id however many processes upsert it, and BullMQ adds the next tick's job only when
 * the current one is taken, so a tick is one job (whose id carries its time); a duplicate delivery of that
 * job is stopped by `schedule_ticks`, not here.
 */
export class ScheduleTimerService {
  constructor(private readonly bus: RaptorBus) {}

  /** Creates or replaces the scheduler (a new cron or time zone takes effect from the next tick). */
  async upsert(s: Pick<ScheduleRow, 'id' | 'workspace_id' | 'cron' | 'timezone'>): Promise<void> {
    // A fixed template for every tick: no request's trace or actor (a tick a month later is not part of it).
    const {
      traceparent: _trace,
      actor_user_id: _actor,
      ...data
    } = buildEnvelope(
      'schedule.tick',
      { schedule_id: s.id },
      { workspaceId: s.workspace_id, correlationId: schedulerIdOf(s.id) },
    );
    const { attempts, backoff, removeOnComplete, removeOnFail } = jobOptionsFor('schedule.tick');
    await this.bus
      .queue('agent')
      .upsertJobScheduler(
        schedulerIdOf(s.id),
        { pattern: s.cron.trim(), tz: s.timezone },
        { name: 'schedule.tick', data, opts: { attempts, backoff, removeOnComplete, removeOnFail } },
      );
  }

  /**
   * Recreates the scheduler of every active schedule that has none, and returns how many. PostgreSQL is the
   * source of truth: Redis may lose schedulers (a flush, a failover that dropped its last writes), and a
   * schedule without one would never fire again. Each runner runs this at start-up; upserts are idempotent,
   * so replicas starting together do no harm, and a tick fired twice is still one run (`schedule_ticks`).
   */
  async restoreMissing(schedules: Pick<ScheduleRepository, 'active'>, page = 200): Promise<number> {
    const queue = this.bus.queue('agent');
    let after: string | null = null;
    let restored = 0;
    for (;;) {
      const rows = await schedules.active(after, page);
      for (const s of rows) {
        if (await queue.getJobScheduler(schedulerIdOf(s.id))) continue;
        await this.upsert(s);
        restored += 1;
      }
      if (rows.length < page) return restored;
      after = rows[rows.length - 1]!.id;
    }
  }

  async remove(scheduleId: string): Promise<void> {
    await this.bus.queue('agent').removeJobScheduler(schedulerIdOf(scheduleId));
  }
}
