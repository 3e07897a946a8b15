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
 * Group commit of the event-keyed audit rows that concurrent jobs of this process write: while one INSERT is
 * in flight, the rows that arrive queue, and the next INSERT carries all of them (at most `maxBatch`). A row
 * alone is written at once, so an idle worker adds no wait; under load one statement and one commit serve
 * many jobs. Each caller resolves only once its own row is committed (or was already there), so a job is
 * completed after its effect is durable, exactly as with one INSERT per job.
 */
export class AuditBatcher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly rows: AuditLogRepository,
    private readonly maxBatch = 100,
  ) {}

  /** Writes the row; false when a row for its (event, action) already existed (a redelivered event). */
  record(row: EventAuditRow): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) await this.flush(this.queue.splice(0, this.maxBatch));
    } finally {
      this.flushing = false;
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
