import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { failed, succeeded } from '@raptorflow/core/batching/group-commit';
import type { ItemOutcome } from '@raptorflow/core/batching/group-commit';
import type { AuditLogInsert, AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';

/** An audit row keyed by the event it records (at most one row per event and action). */
export type EventAuditRow = AuditLogInsert & { event_id: string };

/**
 * One group-commit batch of event-keyed audit rows (the run of the seeder's GroupCommit): one INSERT for all
 * of them. Each row's outcome is true when this batch wrote it, false when a row for its (event, action)
 * already existed (a redelivered event); a row the database refuses fails alone.
 */
export async function writeEventAuditRows(
  repo: AuditLogRepository,
  rows: EventAuditRow[],
): Promise<Array<ItemOutcome<boolean>>> {
  // The same event twice in one batch (a stalled job re-run beside its first run): only the first copy
  // can be the one that wrote the row.
  const first = new Map<string, number>();
  rows.forEach((row, i) => {
    if (!first.has(key(row))) first.set(key(row), i);
  });
  const unique = [...first.values()].map((i) => rows[i]!);
  let written: Set<string>;
  const refused = new Map<string, unknown>();
  try {
    written = await repo.insertEventRows(unique);
  } catch (err) {
    // Database unreachable: every job of the batch is postponed the same way (the batch throws). Otherwise
    // one row is bad (its workspace deleted meanwhile, say): row by row, so only that job fails.
    if (unique.length === 1 || isTransientDbError(err)) throw err;
    written = new Set();
    for (const row of unique) {
      try {
        for (const k of await repo.insertEventRows([row])) written.add(k);
      } catch (rowErr) {
        refused.set(key(row), rowErr);
      }
    }
  }
  return rows.map((row, i) => {
    const k = key(row);
    if (refused.has(k)) return failed(refused.get(k));
    return succeeded(first.get(k) === i && written.has(k));
  });
}

function key(row: EventAuditRow): string {
  return `${row.event_id} ${row.action}`;
}
