import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import { z } from 'zod';
import { runWithContext } from '@raptorflow/core/context/request-context';
import { isAppError } from '@raptorflow/core/errors/app-error';
import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { envelopeSchema } from '../bus/envelope';
import type { TypedEnvelope } from '../bus/envelope';
import { EVENT_CATALOG, eventLabel, eventsOfQueue, isEventType } from '../bus/event-catalog';
import type { EventPayload, EventsOfQueue, QueueName } from '../bus/event-catalog';
import { observeJob } from '@raptorflow/core/metrics/metrics';
import type { JobOutcome } from '@raptorflow/core/metrics/metrics';
import type { DeadLetterService } from './dead-letter.service';
import { SpanKind, contextOf, inSpan, recordSpan } from '@raptorflow/core/telemetry/spans';

/** How long a job waits for PostgreSQL to come back before it is tried again (plus up to as much jitter). */
const DB_WAIT_MS = 2_000;

/** A job postponed (workspace at its cap) is flow control, not a failed span. */
const isPostponed = (err: unknown) => err instanceof RetryLaterError || err instanceof DelayedError;

export interface HandlerContext<E extends string> {
  envelope: E extends keyof typeof EVENT_CATALOG ? TypedEnvelope<E> : never;
  job: Job;
  logger: Logger;
}

export type EventHandler<E extends keyof typeof EVENT_CATALOG> = (
  payload: EventPayload<E>,
  ctx: HandlerContext<E>,
) => Promise<unknown>;

/** Compile-time half of "a worker handles every event of its queue": a missing key is a type error. */
export type HandlerMap<Q extends QueueName> = { [E in EventsOfQueue<Q>]: EventHandler<E> };

/**
 * What every worker is given by its composition root (runWorkerService in the services, test support in
 * tests): nothing is read from configuration or opened behind its back.
 */
export interface WorkerRuntime {
  /** The BullMQ key prefix (settings.queuePrefix). */
  prefix: string;
  /** The worker's Redis connection, or a factory called once per worker for a connection of its own. */
  connection: Redis | (() => Redis);
  /** Records jobs that fail for good; owned (and closed, after the workers) by whoever built it. */
  deadLetters: DeadLetterService;
  logger?: Logger;
}

/** Concurrency, rate limit and BullMQ tuning of a worker (see workerOptionsFor). */
export interface WorkerTuning {
  concurrency?: number;
  limiter?: { max: number; duration: number };
  /** Extra BullMQ settings (lockDuration, stalledInterval, ...) for tests and tuning. */
  workerOptions?: Partial<WorkerOptions>;
}

export type CreateWorkerOptions = WorkerRuntime & WorkerTuning;

export class MissingHandlerError extends Error {}

/**
 * Thrown by a handler that cannot run the job yet (e.g. its workspace is at its concurrency cap): the job goes
 * back to the queue, delayed, without using up an attempt, and the worker slot is free for other jobs.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    reason = 'not yet',
  ) {
    super(reason);
    this.name = 'RetryLaterError';
  }
}

/** Start-up half of the check, for handler maps built dynamically or with casts. */
export function assertHandlersCoverQueue(queue: QueueName, handlers: Record<string, unknown>): void {
  const expected = eventsOfQueue(queue) as string[];
  const missing = expected.filter((e) => typeof handlers[e] !== 'function');
  const foreign = Object.keys(handlers).filter((e) => !expected.includes(e));
  if (missing.length || foreign.length) {
    const parts = [
      missing.length ? `no handler for ${missing.join(', ')}` : '',
      foreign.length ? `handlers for events not on this queue: ${foreign.join(', ')}` : '',
    ].filter(Boolean);
    throw new MissingHandlerError(`Worker for queue "${queue}" refuses to start: ${parts.join('; ')}`);
  }
}

/**
 * Wraps a BullMQ Worker: re-validates every envelope and payload against the catalog, restores the request
 * context of the publisher around the handler, and turns validation and domain errors into final failures
 * (retrying them cannot help) while infrastructure errors are retried with the event's backoff.
 */
export function createWorker<Q extends QueueName>(
  queue: Q,
  handlers: HandlerMap<Q>,
  opts: CreateWorkerOptions,
): Worker {
  assertHandlersCoverQueue(queue, handlers as Record<string, unknown>);
  const logger = opts.logger ?? createLogger(`worker:${queue}`);
  const connection = typeof opts.connection === 'function' ? opts.connection() : opts.connection;
  const { deadLetters } = opts;
  // Handler time of the attempts this process ran, read back by the 'completed'/'failed' listeners (they get
  // the same Job object, and only they know whether a failure will be retried); weak so a job whose listener
  // never fires (worker force-closed) is not kept.
  const durations = new WeakMap<Job, number>();
  const finishAttempt = (job: Job, outcome: JobOutcome) => {
    observeJob(queue, eventLabel(job.name), outcome, durations.get(job));
    durations.delete(job);
  };

  const run = async (job: Job, token: string | undefined): Promise<unknown> => {
    const env = envelopeSchema.safeParse(job.data);
    if (!env.success) throw new UnrecoverableError(`invalid envelope: ${z.prettifyError(env.error)}`);
    const envelope = env.data;
    const name = job.name;
    if (!isEventType(name) || EVENT_CATALOG[name].queue !== queue || envelope.event_type !== name) {
      throw new UnrecoverableError(`event "${name}" does not belong on queue "${queue}"`);
    }
    const payload = EVENT_CATALOG[name].schema.safeParse(envelope.payload);
    if (!payload.success)
      throw new UnrecoverableError(`invalid ${name} payload: ${z.prettifyError(payload.error)}`);

    const handler = (handlers as Record<string, EventHandler<never>>)[name] as (
      p: unknown,
      c: unknown,
    ) => Promise<unknown>;
    const ctx = {
      correlationId: envelope.correlation_id,
      ...(envelope.workspace_id ? { workspaceId: envelope.workspace_id } : {}),
      ...(envelope.actor_user_id ? { userId: envelope.actor_user_id } : {}),
      ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
      ...(job.id ? { jobId: job.id } : {}),
    };
    return runWithContext(ctx, async () => {
      // Built on first use: most jobs log nothing at the configured level, and a child logger per job is
      // measurable at thousands of jobs a second.
      let child: Logger | undefined;
      const jobLogger = () =>
        (child ??= logger.child({
          event_type: name,
          event_id: envelope.event_id,
          attempt: job.attemptsMade + 1,
        }));
      try {
        const result = await inSpan(
          `handle ${name}`,
          {},
          () =>
            handler(payload.data, {
              envelope: { ...envelope, payload: payload.data },
              job,
              get logger() {
                return jobLogger();
              },
            }),
          isPostponed,
        );
        // Still inside the job's span: the line carries its trace_id and span_id.
        if (logger.isLevelEnabled('debug')) jobLogger().debug('job handled');
        return result;
      } catch (err) {
        if (err instanceof RetryLaterError) {
          await job.moveToDelayed(Date.now() + err.delayMs, token);
          throw new DelayedError();
        }
        // PostgreSQL unreachable or restarting: the job is fine, the database is not. Waiting for it must not
        // use up the job's attempts, or an outage longer than the backoff schedule would dead-letter
        // everything handled during it.
        if (isTransientDbError(err)) {
          jobLogger().warn({ err }, 'database unavailable; job postponed without using an attempt');
          await job.moveToDelayed(Date.now() + DB_WAIT_MS + Math.round(Math.random() * DB_WAIT_MS), token);
          throw new DelayedError();
        }
        if (isAppError(err)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
        if (err instanceof z.ZodError)
          throw new UnrecoverableError(`validation_failed: ${z.prettifyError(err)}`);
        throw err;
      }
    });
  };

  const processor = async (job: Job, token?: string): Promise<unknown> => {
    const start = process.hrtime.bigint();
    // The publisher's (or relay's) span, from the envelope; read before validation so a job rejected as
    // invalid still shows in its publisher's trace.
    const data = job.data as { traceparent?: unknown } | undefined;
    const parent = contextOf(typeof data?.traceparent === 'string' ? data.traceparent : undefined);
    const pickedUp = Date.now();
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.destination.name': queue,
      'messaging.message.id': job.id ?? '',
      'raptorflow.attempt': job.attemptsMade + 1,
    };
    // Time in the queue (delays and backoff included) as its own bar, before the job's.
    recordSpan(`queue wait ${queue}`, { parent, startTime: job.timestamp, endTime: pickedUp, attributes });
    try {
      return await inSpan(
        `job ${job.name}`,
        {
          kind: SpanKind.CONSUMER,
          parent,
          attributes: {
            ...attributes,
            'messaging.operation.type': 'process',
            'raptorflow.queue_wait_ms': Math.max(0, pickedUp - job.timestamp),
          },
        },
        () => run(job, token),
        isPostponed,
      );
    } finally {
      durations.set(job, Number(process.hrtime.bigint() - start) / 1e9);
    }
  };

  const worker = new Worker(queue, processor, {
    connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency ?? 1,
    ...(opts.limiter ? { limiter: opts.limiter } : {}),
    ...opts.workerOptions,
  });
  worker.on('error', (err) => {
    // After a Redis reconnect a finished job's lock may already be gone (its command was replayed): expected,
    // and the stalled-job check hands any orphaned job to a worker again.
    if (/Missing lock/i.test(err?.message ?? ''))
      logger.warn({ err }, 'job lock lost (Redis reconnect); stalled check will recover it');
    else logger.error({ err }, 'worker error');
  });
  worker.on('completed', (job) => finishAttempt(job, 'completed'));
  worker.on('failed', (job, err) => {
    const unrecoverable = err instanceof UnrecoverableError || err?.name === 'UnrecoverableError';
    // By now BullMQ has counted this attempt, so attemptsMade >= attempts means it was the last one.
    const exhausted = !!job && job.attemptsMade >= (job.opts.attempts ?? 1);
    const final = !job || unrecoverable || exhausted;
    // A final failure is logged once, by the dead-letter service, with the envelope.
    if (!final || !job)
      logger[final ? 'error' : 'warn'](
        { err, job_id: job?.id, event_type: job?.name, attempts_made: job?.attemptsMade, final },
        final ? 'job failed for good' : 'job failed; will retry',
      );
    if (!job) return;
    finishAttempt(job, !final ? 'retried' : exhausted ? 'dead' : 'failed');
    if (final)
      deadLetters
        .record(queue, job, err)
        .catch((e: unknown) =>
          logger.error({ err: e, job_id: job.id, event_type: job.name }, 'dead letter not audited'),
        );
  });
  worker.on('stalled', (jobId) => logger.warn({ job_id: jobId }, 'job stalled; it will be re-run'));
  return worker;
}
