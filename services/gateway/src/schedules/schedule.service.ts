import type { Knex } from 'knex';
import type { z } from 'zod';
import { NotFoundError, ValidationFailedError } from '@raptorflow/core/errors/app-error';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import type { ScheduleRow } from '@raptorflow/data/repositories/schedule.rows';
import type { RunRequestService } from '@raptorflow/events/runs/run-request.service';
import { nextTickAt } from '@raptorflow/events/runs/schedule-timer.service';
import type { ScheduleTimerService } from '@raptorflow/events/runs/schedule-timer.service';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import type { createScheduleBody, scheduleListQuery, updateScheduleBody } from './schedule.schemas';
import { toScheduleView } from './schedule.views';
import type { ScheduleView } from './schedule.schemas';

export interface ScheduleServiceOptions {
  db: Knex;
  schedules: ScheduleRepository;
  requests: RunRequestService;
  timers: ScheduleTimerService;
  /** Validates a requested model the way the dispatcher will resolve it, so a bad one fails now. */
  router: ModelRouter;
  audit: AuditLogService;
}

const notFound = () => new NotFoundError('Schedule not found');

/** The cron read in its zone must have a next tick (a valid cron can still be empty, e.g. 30 February). */
function nextOf(cron: string, timezone: string): Date {
  const next = nextTickAt(cron, timezone);
  if (!next)
    throw new ValidationFailedError('The cron expression never fires in that time zone', [
      { path: 'body.cron', message: 'has no next tick' },
    ]);
  return next;
}

const audited = (r: ScheduleRow) => ({ ...toScheduleView(r), next_run_at: undefined, updated_at: undefined });

/**
 * Schedules of one workspace. Every write changes the row and its BullMQ job scheduler in one go: the
 * scheduler is upserted (or removed) inside the transaction, so a Redis that refuses rolls the change back;
 * a scheduler left behind by a transaction that failed after it finds no schedule at its first tick and
 * removes itself.
 */
export class ScheduleService {
  constructor(private readonly o: ScheduleServiceOptions) {}

  async create(
    workspaceId: string,
    userId: string,
    body: z.output<typeof createScheduleBody>,
  ): Promise<ScheduleView> {
    const agent = await this.o.requests.agentFor(workspaceId, body.agent);
    const input = this.o.requests.checkInput(agent, body.input);
    if (body.model !== undefined) this.o.router.resolve(body.model);
    const next = nextOf(body.cron, body.timezone);
    return this.o.db.transaction(async (trx) => {
      const row = await this.o.schedules.insert(trx, {
        workspace_id: workspaceId,
        agent_key: agent.key,
        input,
        model: body.model ?? null,
        cron: body.cron,
        timezone: body.timezone,
        paused: body.paused,
        created_by: userId,
        next_run_at: body.paused ? null : next,
      });
      await this.o.audit.record(
        {
          action: 'schedule.created',
          resourceType: 'schedule',
          resourceId: row.id,
          metadata: { after: audited(row) },
        },
        trx,
      );
      if (!row.paused) await this.o.timers.upsert(row);
      return toScheduleView(row);
    });
  }

  async list(
    workspaceId: string,
    q: z.output<typeof scheduleListQuery>,
    after?: Keyset,
  ): Promise<KeysetPage<ScheduleView>> {
    const rows = await this.o.schedules.list(workspaceId, { after, take: q.limit + 1, agent: q.agent });
    return keysetPage(rows, q.limit, toScheduleView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async get(workspaceId: string, id: string): Promise<ScheduleView> {
    const row = await this.o.schedules.find(workspaceId, id);
    if (!row) throw notFound();
    return toScheduleView(row);
  }

  async update(
    workspaceId: string,
    id: string,
    body: z.output<typeof updateScheduleBody>,
  ): Promise<ScheduleView> {
    if (body.model !== undefined && body.model !== null) this.o.router.resolve(body.model);
    return this.o.db.transaction(async (trx) => {
      const before = await this.o.schedules.lock(trx, workspaceId, id);
      if (!before) throw notFound();
      const cron = body.cron ?? before.cron;
      const timezone = body.timezone ?? before.timezone;
      const paused = body.paused ?? before.paused;
      let input: Record<string, unknown> | undefined;
      if (body.input !== undefined) {
        const agent = await this.o.requests.agentFor(workspaceId, before.agent_key);
        input = this.o.requests.checkInput(agent, body.input);
      }
      const next = nextOf(cron, timezone);
      const row = await this.o.schedules.update(trx, id, {
        ...(input !== undefined ? { input } : {}),
        ...(body.model !== undefined ? { model: body.model } : {}),
        cron,
        timezone,
        paused,
        next_run_at: paused ? null : next,
      });
      await this.o.audit.record(
        {
          action: 'schedule.updated',
          resourceType: 'schedule',
          resourceId: id,
          metadata: { before: audited(before), after: audited(row) },
        },
        trx,
      );
      if (paused) await this.o.timers.remove(id);
      else await this.o.timers.upsert(row);
      return toScheduleView(row);
    });
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    await this.o.db.transaction(async (trx) => {
      const before = await this.o.schedules.lock(trx, workspaceId, id);
      if (!before) throw notFound();
      await this.o.schedules.delete(trx, id);
      await this.o.audit.record(
        {
          action: 'schedule.deleted',
          resourceType: 'schedule',
          resourceId: id,
          metadata: { before: audited(before) },
        },
        trx,
      );
      await this.o.timers.remove(id);
    });
  }
}
