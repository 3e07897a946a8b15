import type { Knex } from 'knex';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import type { PendingOutboxRow } from '@raptorflow/data/repositories/event-outbox.repository';
import { SpanKind, contextOf, inSpan, traceparentOf } from '@raptorflow/core/telemetry/spans';
import type { Envelope } from './envelope';
import { isEventType } from './event-catalog';
import type { RaptorBus } from './raptor-bus';

export interface OutboxRelayOptions {
  db: Knex;
  bus: RaptorBus;
  logger?: Logger;
  /** OUTBOX_RELAY_INTERVAL_MS: the pause between passes. */
  intervalMs: number;
  batchSize?: number;
  /** Rows younger than this are left to the publisher's own post-commit enqueue (the fast path). */
  minAgeMs?: number;
  /** OUTBOX_RETENTION_HOURS: how long enqueued rows are kept. */
  retentionHours: number;
  /** How often the leader prunes enqueued rows older than the retention. */
  pruneEveryMs?: number;
}

export interface RelayTick {
  leader: boolean;
  sent: number;
  failed: number;
  pruned: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Re-sends outbox rows that the publisher could not enqueue (Redis down, process died between commit and
 * enqueue). Every service process runs one; a transaction-scoped advisory lock makes exactly one of them the
 * leader for each tick, and `FOR UPDATE SKIP LOCKED` keeps even a second leader (lock lost mid-tick) from
 * sending the same row twice. While Redis refuses, the relay backs off exponentially up to 30 s; the rows
 * wait in PostgreSQL, so nothing is lost. Enqueued rows are pruned after the retention period.
 */
export class OutboxRelay {
  private readonly db: Knex;
  private readonly outbox: EventOutboxRepository;
  private readonly bus: RaptorBus;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly minAgeMs: number;
  private readonly retentionHours: number;
  private readonly pruneEveryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private backoffMs = 0;
  private lastPruneAt = 0;
  private stopped = true;

  constructor(opts: OutboxRelayOptions) {
    this.db = opts.db;
    this.outbox = new EventOutboxRepository(this.db);
    this.bus = opts.bus;
    this.logger = opts.logger ?? createLogger('outbox-relay');
    this.intervalMs = opts.intervalMs;
    this.batchSize = opts.batchSize ?? 100;
    this.minAgeMs = opts.minAgeMs ?? 2_000;
    this.retentionHours = opts.retentionHours;
    this.pruneEveryMs = opts.pruneEveryMs ?? 60_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => {
          // PostgreSQL unreachable: nothing to relay from; try again later.
          this.logger.warn({ err }, 'outbox relay tick failed');
          this.backoffMs = nextBackoff(this.backoffMs, this.intervalMs);
          return undefined;
        })
        .then((pass) => {
          // A full batch means more is waiting (say, after a Redis outage): drain it pass after pass
          // instead of one batch per interval.
          const full = pass !== undefined && pass.failed === 0 && pass.sent >= this.batchSize;
          this.schedule(full ? 0 : this.intervalMs + this.backoffMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass; public so tests and `npm run events` can drive the relay deterministically. */
  async tick(): Promise<RelayTick> {
    const result: RelayTick = { leader: false, sent: 0, failed: 0, pruned: 0 };
    await this.db.transaction(async (trx) => {
      if (!(await this.outbox.tryLeadRelay(trx))) return;
      result.leader = true;
      const claimed = await this.outbox.claimPending(trx, this.minAgeMs, this.batchSize);
      // A row whose event left the catalog (an older release wrote it) can never be sent: it backs off on
      // its own instead of failing the batch it sits in.
      const pending: PendingOutboxRow[] = [];
      for (const row of claimed) {
        const type = (row.envelope as { event_type?: unknown }).event_type;
        if (typeof type === 'string' && isEventType(type)) pending.push(row);
        else {
          result.failed += 1;
          await this.outbox.backOff(trx, row, `unknown event type ${String(type)}`, backoffOf(row));
        }
      }
      if (pending.length > 0) {
        try {
          // One addBulk per queue and one UPDATE for the whole batch, not two round trips per row. A partial
          // addBulk is harmless: the rows stay pending and BullMQ drops the ids it already holds.
          await this.relayAll(pending);
          await this.outbox.markRelayedMany(trx, pending);
          result.sent = pending.length;
        } catch (err) {
          // Redis is most likely down: the oldest row backs off (and counts the attempt), as when a batch was
          // sent row by row and stopped at its first failure; the others are tried again next pass.
          const row = pending[0]!;
          result.failed += 1;
          await this.outbox.backOff(trx, row, String((err as Error).message), backoffOf(row));
        }
      }
      if (Date.now() - this.lastPruneAt >= this.pruneEveryMs) {
        this.lastPruneAt = Date.now();
        result.pruned = await this.outbox.prune(trx, this.retentionHours);
      }
    });
    this.backoffMs = result.failed > 0 ? nextBackoff(this.backoffMs, this.intervalMs) : 0;
    if (result.sent || result.failed || result.pruned) this.logger.info(result, 'outbox relay pass');
    return result;
  }

  /**
   * Sends the envelopes, each in a `relay <event>` span continuing its publisher's trace (open until the
   * batch is sent); each job then continues its relay span, so a trace shows the time the event spent
   * waiting in the outbox.
   */
  private async relayAll(rows: PendingOutboxRow[]): Promise<void> {
    const envelopes: Envelope[] = [];
    const inSpans = (i: number): Promise<void> => {
      if (i === rows.length) return this.bus.addJobs(envelopes);
      const envelope = rows[i]!.envelope as unknown as Envelope;
      return inSpan(
        `relay ${envelope.event_type}`,
        {
          kind: SpanKind.PRODUCER,
          parent: contextOf(envelope.traceparent),
          attributes: {
            'messaging.system': 'bullmq',
            'messaging.message.id': envelope.event_id,
            'raptorflow.outbox.attempts': rows[i]!.attempts,
            'raptorflow.outbox.age_ms': Math.max(0, Date.now() - Date.parse(envelope.timestamp)),
          },
        },
        async () => {
          const traceparent = traceparentOf();
          envelopes.push(traceparent ? { ...envelope, traceparent } : envelope);
          await inSpans(i + 1);
        },
      );
    };
    await inSpans(0);
  }
}

/** How long a row that failed to send is hidden: 2, 4 … 32 s by its attempts, at most 30 s. */
function backoffOf(row: PendingOutboxRow): number {
  return Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(row.attempts, 5));
}

function nextBackoff(current: number, base: number): number {
  return Math.min(MAX_BACKOFF_MS, current === 0 ? base : current * 2);
}
