import type { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Envelope } from './envelope';

interface Pending {
  envelope: Envelope;
  resolve: (inserted: boolean) => void;
  reject: (err: unknown) => void;
  settled?: boolean;
}

export interface OutboxBatcherOptions {
  outbox: EventOutboxRepository;
  /** Adds the jobs to their queues (all or nothing as far as the batcher is concerned). */
  addJobs: (envelopes: Envelope[]) => Promise<void>;
  /** The queue of an envelope's event (the outbox row records it for the relay). */
  queueOf: (envelope: Envelope) => string;
  logger: Logger;
  maxBatch?: number;
}

/**
 * Publishes made outside a caller's transaction that arrive in the same event-loop turn share one outbox
 * INSERT, one BullMQ addBulk per queue and one bookkeeping UPDATE, instead of three round trips (and two
 * commits) each. Order is kept: rows are committed before their jobs exist. Alone, a publish is a batch of one.
 */
export class OutboxBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly committed: Array<{ envelope: Envelope; resolve: (sent: boolean) => void }> = [];
  private readonly maxBatch: number;

  constructor(private readonly opts: OutboxBatcherOptions) {
    this.maxBatch = opts.maxBatch ?? 200;
  }

  /** Resolves true once the row is written and delivery attempted, false when the event id already existed. */
  submit(envelope: Envelope): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ envelope, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) setImmediate(() => void this.flush());
    else this.scheduled = false;
    if (batch.length === 0) return;

    const inserted = await this.insertIsolating(batch);
    const fresh: Pending[] = [];
    for (const p of batch) {
      if (p.settled) continue;
      if (inserted.has(p.envelope.event_id)) fresh.push(p);
      else p.resolve(false); // a duplicate event id: the first copy is (or will be) delivered
    }
    if (fresh.length === 0) return;

    await this.send(fresh.map((p) => p.envelope));
    for (const p of fresh) p.resolve(true);
  }

  /**
   * Sends envelopes whose rows a caller's transaction has already committed (the post-commit enqueue):
   * those arriving in the same event-loop turn share one addBulk and one mark UPDATE. Never rejects; an
   * event Redis did not take stays pending for the relay. Resolves whether Redis took it.
   */
  deliver(envelope: Envelope): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.committed.push({ envelope, resolve });
      if (this.committed.length === 1) setImmediate(() => void this.flushCommitted());
    });
  }

  private async flushCommitted(): Promise<void> {
    // Drained in batches of maxBatch; later arrivals wait for the next turn (the length check above).
    while (this.committed.length > 0) {
      const batch = this.committed.slice(0, this.maxBatch);
      const sent = await this.send(batch.map((d) => d.envelope));
      this.committed.splice(0, batch.length);
      for (const d of batch) d.resolve(sent);
    }
  }

  /** One addBulk per queue, then one UPDATE marking the rows; on failure the rows record the error. */
  private async send(envelopes: Envelope[]): Promise<boolean> {
    const ids = envelopes.map((e) => e.event_id);
    const { outbox } = this.opts;
    try {
      await this.opts.addJobs(envelopes);
      // Unmarked rows are re-sent by the relay, and BullMQ drops the duplicates.
      await outbox.markEnqueued(ids).catch(() => undefined);
      return true;
    } catch (err) {
      this.opts.logger.warn(
        { err, events: ids.length },
        'events not enqueued yet; they stay in the outbox for the relay',
      );
      await outbox.recordEnqueueFailure(ids, String((err as Error).message)).catch(() => undefined);
      return false;
    }
  }

  /** One INSERT for the batch; if it fails (say, one row's workspace is gone), row by row so only that row fails. */
  private async insertIsolating(batch: Pending[]): Promise<Set<string>> {
    try {
      return await this.insert(batch.map((p) => p.envelope));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.settled = true;
        batch[0]!.reject(err);
        return new Set();
      }
      const ids = new Set<string>();
      for (const p of batch) {
        try {
          for (const id of await this.insert([p.envelope])) ids.add(id);
        } catch (rowErr) {
          p.settled = true;
          p.reject(rowErr);
        }
      }
      return ids;
    }
  }

  private async insert(envelopes: Envelope[]): Promise<Set<string>> {
    return this.opts.outbox.insert(
      envelopes.map((e) => ({
        id: e.event_id,
        event_type: e.event_type,
        queue: this.opts.queueOf(e),
        workspace_id: e.workspace_id,
        envelope: JSON.stringify(e),
      })),
    );
  }
}
