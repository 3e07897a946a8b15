import type { Knex } from 'knex';
import type { EventOutboxRow } from './event-outbox.rows';

/** An outbox row as the publisher writes it (the envelope already serialised); the rest are defaults. */
export type EventOutboxInsert = Pick<EventOutboxRow, 'id' | 'event_type' | 'queue' | 'workspace_id'> & {
  envelope: string;
};

/** What the relay needs of a pending row. */
export type PendingOutboxRow = Pick<EventOutboxRow, 'id' | 'envelope' | 'attempts'>;

// pg_try_advisory_xact_lock key: any constant shared by every RaptorFlow process on this database.
const RELAY_LOCK_KEY = 7_466_110_502;
// Kept short: the error lands in a row that may be retried many times.
const MAX_ERROR_CHARS = 500;

/**
 * All SQL of `event_outbox`: the publisher's insert (in the caller's transaction when given) and marks, the
 * relay's leader lock, claim, marks and pruning (in the relay's transaction), and the replay lookup.
 */
export class EventOutboxRepository {
  constructor(private readonly db: Knex) {}

  /** Inserts the rows, ignoring ids that already exist; returns the ids actually inserted. */
  async insert(rows: EventOutboxInsert[], trx?: Knex.Transaction): Promise<Set<string>> {
    const inserted = await (trx ?? this.db)('event_outbox')
      .insert(rows)
      .onConflict('id')
      .ignore()
      .returning<Array<{ id: string }>>('id');
    return new Set(inserted.map((r) => r.id));
  }

  /** Marks rows whose jobs Redis took (rows the relay already marked keep their mark). */
  async markEnqueued(ids: string[]): Promise<void> {
    await this.db('event_outbox')
      .whereIn('id', ids)
      .whereNull('enqueued_at')
      .update({ enqueued_at: this.db.fn.now(), attempts: this.db.raw('attempts + 1') });
  }

  /** Counts a failed publisher enqueue; the rows stay pending for the relay. */
  async recordEnqueueFailure(ids: string[], error: string): Promise<void> {
    await this.db('event_outbox')
      .whereIn('id', ids)
      .update({ attempts: this.db.raw('attempts + 1'), last_error: error.slice(0, MAX_ERROR_CHARS) });
  }

  async findEnvelope(id: string): Promise<Pick<EventOutboxRow, 'envelope'> | undefined> {
    return this.db('event_outbox')
      .where({ id })
      .first<Pick<EventOutboxRow, 'envelope'> | undefined>('envelope');
  }

  /**
   * Seconds since the oldest row still waiting for Redis was written, by the database clock (0 when none
   * waits). Backed-off rows count: their delay is exactly the lag an operator must see.
   */
  async oldestPendingAgeSeconds(): Promise<number> {
    const { rows } = await this.db.raw<{ rows: Array<{ age: number | null }> }>(
      `SELECT EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age
         FROM event_outbox WHERE enqueued_at IS NULL`,
    );
    return Math.max(0, rows[0]?.age ?? 0);
  }

  /** Whether this transaction leads the relay pass (the lock ends with the transaction). */
  async tryLeadRelay(trx: Knex.Transaction): Promise<boolean> {
    const { rows } = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
      'SELECT pg_try_advisory_xact_lock(?) AS locked',
      [RELAY_LOCK_KEY],
    );
    return rows[0]?.locked === true;
  }

  /**
   * Locks up to `limit` due pending rows older than `minAgeMs` (younger ones belong to the publisher's fast
   * path), oldest first; SKIP LOCKED keeps a second leader from taking the same rows.
   */
  async claimPending(trx: Knex.Transaction, minAgeMs: number, limit: number): Promise<PendingOutboxRow[]> {
    return trx('event_outbox')
      .whereNull('enqueued_at')
      .andWhere('available_at', '<=', trx.fn.now())
      .andWhere('created_at', '<', trx.raw(`now() - (? * interval '1 millisecond')`, [minAgeMs]))
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .select<PendingOutboxRow[]>('id', 'envelope', 'attempts');
  }

  /** Marks claimed rows (locked by this transaction) sent, in one statement. */
  async markRelayedMany(trx: Knex.Transaction, rows: PendingOutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await trx('event_outbox')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ enqueued_at: trx.fn.now(), attempts: trx.raw('attempts + 1'), last_error: null });
  }

  /** Counts a failed relay attempt and hides the row for `delayMs`. */
  async backOff(trx: Knex.Transaction, row: PendingOutboxRow, error: string, delayMs: number): Promise<void> {
    await trx('event_outbox')
      .where({ id: row.id })
      .update({
        attempts: row.attempts + 1,
        last_error: error.slice(0, MAX_ERROR_CHARS),
        available_at: trx.raw(`now() + (? * interval '1 millisecond')`, [delayMs]),
      });
  }

  /** Deletes up to `max` rows enqueued more than `retentionHours` ago; returns how many. */
  async prune(trx: Knex.Transaction, retentionHours: number, max = 5_000): Promise<number> {
    return trx('event_outbox')
      .whereIn(
        'id',
        trx('event_outbox')
          .select('id')
          .whereNotNull('enqueued_at')
          .andWhere('enqueued_at', '<', trx.raw(`now() - (? * interval '1 hour')`, [retentionHours]))
          .limit(max),
      )
      .delete();
  }
}
