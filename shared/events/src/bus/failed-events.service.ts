import type { Job } from 'bullmq';
import type { Knex } from 'knex';
import { z } from 'zod';
import { getContext } from '@raptorflow/core/context/request-context';
import type { ActorType } from '@raptorflow/data/repositories/audit-log.rows';
import { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationFailedError,
} from '@raptorflow/core/errors/app-error';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { recordEventAudit } from '../worker/dead-letter.service';
import { envelopeSchema } from './envelope';
import { QUEUE_NAMES, isEventType } from './event-catalog';
import type { QueueName } from './event-catalog';
import type { RaptorBus } from './raptor-bus';

export const REPLAY_ACTION = 'event.replayed';

/** One dead letter as operators see it (CLI table, admin endpoint). */
export interface FailedEvent {
  event_id: string;
  event_type: string;
  queue: QueueName;
  workspace_id: string | null;
  attempts_made: number;
  failed_reason: string | null;
  failed_at: string | null;
}

export type ReplaySource = 'failed_set' | 'outbox';

export interface ReplayResult {
  event_id: string;
  replayed_from: ReplaySource;
}

export interface ReplayActor {
  type: ActorType;
  id: string;
}

export interface FailedEventsServiceOptions {
  bus: RaptorBus;
  db: Knex;
  audit: AuditLogService;
  logger?: Logger;
}

const uuid = z.uuid();
const MAX_LIMIT = 1_000;

/**
 * Lists and replays events that failed for good. A failed job stays in its queue's failed set until
 * `removeOnFail` trims it; after that the `event_outbox` row still holds the envelope, so a replay re-adds
 * the job under the same id (= event id) and handlers, being idempotent, do their work once.
 */
export class FailedEventsService {
  private readonly bus: RaptorBus;
  private readonly outbox: EventOutboxRepository;
  private readonly audit: AuditLogService;
  private readonly logger: Logger;

  constructor(opts: FailedEventsServiceOptions) {
    this.bus = opts.bus;
    this.outbox = new EventOutboxRepository(opts.db);
    this.audit = opts.audit;
    this.logger = opts.logger ?? createLogger('failed-events');
  }

  /** The newest failed jobs across queues (or of one queue), newest first. */
  async listFailed(opts: { limit?: number; queue?: QueueName } = {}): Promise<FailedEvent[]> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), MAX_LIMIT);
    const queues = opts.queue ? [opts.queue] : QUEUE_NAMES;
    // Each queue's failed set is ordered by failure time, so its first `limit` hold the global newest.
    const perQueue = await Promise.all(
      queues.map(async (name) => {
        const jobs = await this.bus.queue(name).getFailed(0, limit - 1);
        return jobs.filter(Boolean).map((job) => toFailedEvent(name, job));
      }),
    );
    return perQueue
      .flat()
      .sort((a, b) => (b.failed_at ?? '').localeCompare(a.failed_at ?? ''))
      .slice(0, limit);
  }

  /**
   * Sends a dead letter through its handler again with fresh attempts. Refuses (409) an event that is not
   * failed (waiting, running, completed): replaying it would only race with the run in progress.
   */
  async replay(eventId: string, opts: { actor?: ReplayActor } = {}): Promise<ReplayResult> {
    if (!uuid.safeParse(eventId).success)
      throw new ValidationFailedError('event_id must be a UUID', [
        { path: 'event_id', message: 'must be a UUID' },
      ]);
    const found = await this.findJob(eventId);
    if (found) return this.replayFromFailedSet(eventId, found.queue, found.job, opts.actor);

    const row = await this.outbox.findEnvelope(eventId);
    if (!row) throw new NotFoundError(`No failed job and no outbox row for event ${eventId}`);
    const parsed = envelopeSchema.safeParse(row.envelope);
    if (!parsed.success || !isEventType(parsed.data.event_type))
      throw new ConflictError(`The outbox row of event ${eventId} no longer matches the event catalog`);
    const envelope = parsed.data;
    if (!(await this.bus.enqueue(envelope)))
      throw new ServiceUnavailableError('The queue did not take the event; try again shortly');
    await this.audited(envelope.workspace_id, eventId, opts.actor, {
      event_type: envelope.event_type,
      replayed_from: 'outbox',
    });
    return { event_id: eventId, replayed_from: 'outbox' };
  }

  private async findJob(eventId: string): Promise<{ queue: QueueName; job: Job } | undefined> {
    const jobs = await Promise.all(QUEUE_NAMES.map((name) => this.bus.queue(name).getJob(eventId)));
    const i = jobs.findIndex(Boolean);
    return i < 0 ? undefined : { queue: QUEUE_NAMES[i]!, job: jobs[i]! };
  }

  private async replayFromFailedSet(
    eventId: string,
    queue: QueueName,
    job: Job,
    actor: ReplayActor | undefined,
  ): Promise<ReplayResult> {
    const state = await job.getState();
    if (state !== 'failed') throw new ConflictError(`Event ${eventId} is ${state}, not failed`, { state });
    const previous = {
      attempts_made: job.attemptsMade,
      failed_reason: job.failedReason ? scrubSecrets(job.failedReason) : null,
    };
    try {
      // attemptsStarted too, so a worker's maxStartedAttempts does not fail the replay at once.
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch (err) {
      // Another replay (or a trim: 'unknown', and a second try goes through the outbox) got there first: say
      // what the job is now rather than a 500. A job still failed, or Redis not answering, is another error.
      const now = await job.getState().catch(() => undefined);
      if (now === undefined || now === 'failed') throw err;
      this.logger.warn({ err, event_id: eventId, state: now }, 'replay lost a race');
      throw new ConflictError(`Event ${eventId} could not be replayed: it is ${now}`, { state: now });
    }
    const data = envelopeSchema.safeParse(job.data);
    await this.audited(data.success ? data.data.workspace_id : null, eventId, actor, {
      event_type: job.name,
      queue,
      replayed_from: 'failed_set',
      previous_attempts_made: previous.attempts_made,
      previous_failed_reason: previous.failed_reason,
    });
    return { event_id: eventId, replayed_from: 'failed_set' };
  }

  // Not keyed by eventId: the (event_id, action) index would drop the audit row of a second replay.
  private async audited(
    workspaceId: string | null,
    eventId: string,
    actor: ReplayActor | undefined,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    const ctxUser = getContext()?.userId;
    const who =
      actor ??
      (ctxUser ? { type: 'user' as const, id: ctxUser } : { type: 'system' as const, id: 'operator' });
    await recordEventAudit(this.audit, {
      action: REPLAY_ACTION,
      workspaceId,
      actorType: who.type,
      actorId: who.id,
      resourceType: 'event',
      resourceId: eventId,
      metadata: { event_id: eventId, ...metadata },
    });
    this.logger.info({ event_id: eventId, actor: who, ...metadata }, 'event replayed');
  }
}

function toFailedEvent(queue: QueueName, job: Job): FailedEvent {
  const data = (job.data ?? {}) as { workspace_id?: unknown };
  return {
    // The job id is the event id, and it is what replay looks jobs up by.
    event_id: String(job.id),
    event_type: job.name,
    queue,
    workspace_id: typeof data.workspace_id === 'string' ? data.workspace_id : null,
    attempts_made: job.attemptsMade,
    failed_reason: job.failedReason ? scrubSecrets(job.failedReason) : null,
    failed_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
