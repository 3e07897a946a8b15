import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { getSettings } from '@raptorflow/core/config/settings';
import { getDatabase } from '@raptorflow/core/db/database';
import { PayloadTooLargeError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import { SpanKind, inContext, inSpan, markFailed, startSpan } from '@raptorflow/core/telemetry/spans';
import type { Span, SpanOptions } from '@raptorflow/core/telemetry/spans';
import { buildEnvelope } from './envelope';
import { OutboxBatcher } from './outbox-batcher';
import type { EnvelopeOverrides, Envelope, TypedEnvelope } from './envelope';
import { EVENT_CATALOG, MAX_EVENT_PAYLOAD_BYTES, jobOptionsFor } from './event-catalog';
import type { EventPayload, EventType, QueueName } from './event-catalog';

export interface PublishOptions extends EnvelopeOverrides {
  /** Write the outbox row in this transaction; the job is enqueued only once it commits. */
  trx?: Knex.Transaction;
}

export interface RaptorBusOptions {
  db: Knex;
  /** Its own producer connection when omitted (closed by close()). */
  connection?: Redis;
  /** QUEUE_PREFIX: BullMQ keys of every queue this bus adds to. */
  prefix: string;
  logger?: Logger;
  /** How long a publish waits for Redis before leaving the event to the outbox relay. */
  enqueueTimeoutMs?: number;
}

/**
 * Every event is first an `event_outbox` row (in the caller's transaction when there is one), then a BullMQ
 * job on its domain queue with job id = event id, so a re-send is deduplicated by BullMQ itself.
 * If Redis is down the row simply stays pending; nothing a caller committed is lost.
 */
export class RaptorBus {
  private readonly outbox: EventOutboxRepository;
  private readonly connection: Redis;
  private readonly ownsConnection: boolean;
  readonly prefix: string;
  private readonly logger: Logger;
  private readonly enqueueTimeoutMs: number;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly batcher: OutboxBatcher;

  constructor(opts: RaptorBusOptions) {
    this.outbox = new EventOutboxRepository(opts.db);
    this.ownsConnection = !opts.connection;
    this.connection = opts.connection ?? createRedis('producer');
    this.prefix = opts.prefix;
    this.logger = opts.logger ?? createLogger('bus');
    this.enqueueTimeoutMs = opts.enqueueTimeoutMs ?? 3_000;
    this.batcher = new OutboxBatcher({
      outbox: this.outbox,
      logger: this.logger,
      addJobs: (envelopes) => this.addJobs(envelopes),
      queueOf: (e) => EVENT_CATALOG[e.event_type as EventType].queue,
    });
  }

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.prefix });
      q.on('error', (err) => this.logger.warn({ err, queue: name }, 'queue connection error'));
      this.queues.set(name, q);
    }
    return q;
  }

  /** Writes the outbox row and enqueues the job, in a `publish <event>` span that the consumer's job continues. */
  publish<E extends EventType>(
    type: E,
    payload: EventPayload<E>,
    opts: PublishOptions = {},
  ): Promise<TypedEnvelope<E>> {
    return inSpan(`publish ${type}`, publishSpanOptions(type), async (span) => {
      const envelope = await this.publishInSpan(type, payload, opts);
      tagPublishSpan(span, envelope);
      return envelope;
    });
  }

  private async publishInSpan<E extends EventType>(
    type: E,
    payload: EventPayload<E>,
    opts: PublishOptions,
  ): Promise<TypedEnvelope<E>> {
    const envelope = envelopeFor(type, payload, opts);
    if (!opts.trx) {
      await this.batcher.submit(envelope);
      return envelope;
    }
    await this.insertInTransaction([envelope], opts.trx);
    return envelope;
  }

  /**
   * Several events in one caller's transaction, as many publish() calls with `trx` would write them, in one
   * outbox statement (a pg connection runs one query at a time, so N publishes cost N round trips). Each
   * event is built, and its `publish <event>` span started, by `inContext` when given (e.g. the async
   * context of the call the event is of: its request ids and trace parent).
   */
  async publishMany(items: PublishItem[], trx: Knex.Transaction): Promise<Envelope[]> {
    const opened: Array<{ span: Span; envelope: Envelope }> = [];
    try {
      for (const item of items) {
        const run = item.inContext ?? ((fn) => fn());
        opened.push(
          run(() => {
            const { span, context } = startSpan(`publish ${item.type}`, publishSpanOptions(item.type));
            try {
              const envelope = inContext(context, () =>
                envelopeFor(item.type, item.payload, item.opts ?? {}),
              );
              tagPublishSpan(span, envelope);
              return { span, envelope };
            } catch (err) {
              markFailed(span, err);
              span.end();
              throw err;
            }
          }),
        );
      }
      await this.insertInTransaction(
        opened.map((o) => o.envelope),
        trx,
      );
      return opened.map((o) => o.envelope);
    } catch (err) {
      for (const o of opened) markFailed(o.span, err);
      throw err;
    } finally {
      for (const o of opened) o.span.end();
    }
  }

  /** Outbox rows in the caller's transaction; each new one is enqueued once it commits. */
  private async insertInTransaction(envelopes: Envelope[], trx: Knex.Transaction): Promise<void> {
    const inserted = await this.outbox.insert(
      envelopes.map((envelope) => ({
        id: envelope.event_id,
        event_type: envelope.event_type,
        queue: EVENT_CATALOG[envelope.event_type as EventType].queue,
        workspace_id: envelope.workspace_id,
        envelope: JSON.stringify(envelope),
      })),
      trx,
    );
    for (const envelope of envelopes) {
      // A caller-chosen event id already published is a duplicate: the first copy is (or will be) delivered.
      if (!inserted.has(envelope.event_id)) continue;
      // Enqueue after commit (batched with other transactions' events that commit in the same turn); a
      // rollback rejects executionPromise and the event never existed.
      trx.executionPromise.then(
        () => this.batcher.deliver(envelope),
        () => undefined,
      );
    }
  }

  /** Sends an outbox envelope to its queue and marks the row; false when Redis could not take it. */
  async enqueue(envelope: Envelope): Promise<boolean> {
    try {
      await this.addJob(envelope);
      await this.outbox.markEnqueued([envelope.event_id]);
      return true;
    } catch (err) {
      this.logger.warn(
        { err, event_id: envelope.event_id, event_type: envelope.event_type },
        'event not enqueued yet; it stays in the outbox for the relay',
      );
      await this.outbox
        .recordEnqueueFailure([envelope.event_id], String((err as Error).message))
        .catch(() => undefined);
      return false;
    }
  }

  /**
   * Adds the job (name = event type, id = event id) without touching the outbox row; throws when Redis does
   * not take it within enqueueTimeoutMs. BullMQ ignores an id it already holds, so re-sending is harmless.
   */
  async addJob(envelope: Envelope): Promise<void> {
    const type = envelope.event_type as EventType;
    const def = EVENT_CATALOG[type];
    if (!def) throw new Error(`unknown event type ${envelope.event_type}`);
    await withTimeout(
      this.queue(def.queue).add(type, envelope, { ...jobOptionsFor(type), jobId: envelope.event_id }),
      this.enqueueTimeoutMs,
    );
  }

  /** addJob for many envelopes: one addBulk per queue. */
  async addJobs(envelopes: Envelope[]): Promise<void> {
    const byQueue = new Map<QueueName, Envelope[]>();
    for (const e of envelopes) {
      const def = EVENT_CATALOG[e.event_type as EventType];
      if (!def) throw new Error(`unknown event type ${e.event_type}`);
      byQueue.set(def.queue, [...(byQueue.get(def.queue) ?? []), e]);
    }
    await withTimeout(
      Promise.all(
        [...byQueue].map(([queue, list]) =>
          this.queue(queue).addBulk(
            list.map((e) => {
              const type = e.event_type as EventType;
              return { name: type, data: e, opts: { ...jobOptionsFor(type), jobId: e.event_id } };
            }),
          ),
        ),
      ),
      this.enqueueTimeoutMs,
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    if (this.ownsConnection) this.connection.disconnect();
  }
}

/** One publish of publishMany: what publish() takes, and the async context to build the event in. */
export interface PublishItem<E extends EventType = EventType> {
  type: E;
  payload: EventPayload<E>;
  opts?: EnvelopeOverrides;
  inContext?: <R>(fn: () => R) => R;
}

/** The payload checked against its schema and size limit, in its envelope. */
function envelopeFor<E extends EventType>(
  type: E,
  payload: EventPayload<E>,
  opts: EnvelopeOverrides,
): TypedEnvelope<E> {
  const checked = parseOrThrow(EVENT_CATALOG[type].schema, payload, 'payload') as EventPayload<E>;
  const envelope = buildEnvelope(type, checked, opts);
  // Events travel through Redis, which keeps every job in memory: a payload is a message, not storage.
  const bytes = Buffer.byteLength(JSON.stringify(envelope.payload));
  if (bytes > MAX_EVENT_PAYLOAD_BYTES)
    throw new PayloadTooLargeError(`${MAX_EVENT_PAYLOAD_BYTES / 1024} KiB`, `The ${type} event payload`, {
      max_bytes: MAX_EVENT_PAYLOAD_BYTES,
      bytes,
    });
  return envelope;
}

function publishSpanOptions(type: EventType): SpanOptions {
  return {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'send',
      'messaging.destination.name': EVENT_CATALOG[type].queue,
    },
  };
}

function tagPublishSpan(span: Span, envelope: Envelope): void {
  span.setAttribute('messaging.message.id', envelope.event_id);
  if (envelope.workspace_id) span.setAttribute('raptorflow.workspace_id', envelope.workspace_id);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

let bus: RaptorBus | undefined;

/** The process-wide bus, for composition roots (main.ts, scripts, test support) only. */
export function getBus(): RaptorBus {
  bus ??= new RaptorBus({ db: getDatabase(), prefix: getSettings().queuePrefix });
  return bus;
}

export async function closeBus(): Promise<void> {
  const b = bus;
  bus = undefined;
  if (b) await b.close();
}
