import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import type { AuditLogInsert, AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';

/** An audit row keyed by the event it records (at most one row per event and action). */
export type EventAuditRow = AuditLogInsert & { event_id: string };

interface Pending {
  row: EventAuditRow;
  resolve: (written: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of the event-keyed audit rows that concurrent jobs of this process write. Rows that arrive in
 * the same event-loop turn share one INSERT, sent at the end of that turn; at most `maxInFlight` INSERTs run
 * at once, and rows arriving while all are busy queue and go together in the next one (at most `maxBatch`).
 * So a lone row waits for nothing, and under load one statement and one commit serve many jobs. Each caller
 * resolves only once its own row is committed (or was already there), so a job is completed after its
 * effect is durable, exactly as with one INSERT per job.
 */
export class AuditBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly rows: AuditLogRepository,
    private readonly maxBatch = 100,
    private readonly maxInFlight = 4,
  ) {}

  /** Writes the row; false when a row for its (event, action) already existed (a redelivered event). */
  record(row: EventAuditRow): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Starts INSERTs for the queued rows while a slot is free. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    // The same event twice in one batch (a stalled job re-run beside its first run): only the first copy
    // can be the one that wrote the row.
    const first = new Map<string, Pending>();
    for (const p of batch) if (!first.has(key(p.row))) first.set(key(p.row), p);
    const unique = [...first.values()];
    let written: Set<string>;
    try {
      written = await this.rows.insertEventRows(unique.map((p) => p.row));
    } catch (err) {
      // Database unreachable: every job of the batch is postponed the same way. Otherwise one row is bad
      // (its workspace deleted meanwhile, say): row by row, so only that job fails.
      if (unique.length === 1 || isTransientDbError(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      written = new Set();
      for (const p of unique) {
        try {
          for (const k of await this.rows.insertEventRows([p.row])) written.add(k);
        } catch (rowErr) {
          for (const q of batch) if (key(q.row) === key(p.row)) q.reject(rowErr);
        }
      }
    }
    for (const p of batch) p.resolve(first.get(key(p.row)) === p && written.has(key(p.row)));
  }
}

function key(row: EventAuditRow): string {
  return `${row.event_id} ${row.action}`;
}
