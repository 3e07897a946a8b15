import type { Knex } from 'knex';
import { z } from 'zod';
import { envelopeSchema } from '../bus/envelope';
import { createDatabase } from '@raptorflow/core/db/database';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { AuditEntry } from '@raptorflow/data/domain/audit-log.service';
import { createLogger } from '@raptorflow/core/logging/logger';
import type { Logger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { eventLabel } from '../bus/event-catalog';

export const DEAD_LETTER_ACTION = 'event.dead_lettered';

/** Where the audit rows go: an audit writer, a pool, or a database URL for a pool of its own (see below). */
export type DeadLetterServiceOptions = { logger?: Logger } & (
  { audit: AuditLogService } | { db: Knex } | { databaseUrl: string }
);

/** The parts of a BullMQ job a dead letter is made of. */
export interface FailedJob {
  id?: string | undefined;
  name: string;
  data: unknown;
  attemptsMade: number;
  failedReason?: string | undefined;
}

const uuid = z.uuid();
// Matched on the end of the key, so `accessToken` is blanked but `input_tokens` or `agent_key` are not.
const SECRET_KEY =
  /(pass(word|wd)?|secret|secret[_-]?key|token|api[_-]?key|authori[sz]ation|cookie|credentials?)$/i;
const MAX_REASON = 2_000;

/**
 * Records an event that failed for good: one `event.dead_lettered` audit row per event id (the unique
 * (event_id, action) index makes a repeated notification harmless), the dead-letters metric and an error
 * log line carrying the envelope, so an operator can find it and replay it by event id.
 */
export class DeadLetterService {
  private audit: AuditLogService | undefined;
  private ownedDb: Knex | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly opts: DeadLetterServiceOptions;
  private readonly logger: Logger;

  constructor(opts: DeadLetterServiceOptions) {
    this.opts = opts;
    this.audit = 'audit' in opts ? opts.audit : undefined;
    this.logger = opts.logger ?? createLogger('dead-letters');
  }

  /**
   * Given a URL, a small pool of its own, opened only when something dies and closed by close(): borrowing
   * the process-wide pool would keep a process whose workers are closed alive (tests, embedded use) until
   * that pool's idle timeout.
   */
  private auditService(): AuditLogService {
    if (!this.audit) {
      const { opts } = this;
      const db =
        'db' in opts
          ? opts.db
          : (this.ownedDb = createDatabase({
              url: (opts as { databaseUrl: string }).databaseUrl,
              poolMax: 2,
              applicationName: 'raptorflow-dead-letters',
            }));
      this.audit = new AuditLogService({ db });
    }
    return this.audit;
  }

  /** Returns true when this call wrote the audit row, false when the event was already recorded. */
  record(queue: string, job: FailedJob, err?: Error): Promise<boolean> {
    const p = this.recordNow(queue, job, err);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  /** Waits for records in flight, then closes the pool this service opened (if any). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const db = this.ownedDb;
    this.ownedDb = undefined;
    if (db) {
      this.audit = undefined;
      await db.destroy();
    }
  }

  private async recordNow(queue: string, job: FailedJob, err?: Error): Promise<boolean> {
    const parsed = envelopeSchema.safeParse(job.data);
    const envelope = parsed.success ? parsed.data : undefined;
    // A job whose envelope is itself broken is still worth a row; its id is the event id when it looks like one.
    const eventId = envelope?.event_id ?? (uuid.safeParse(job.id).success ? job.id : undefined);
    const failedReason = scrubSecrets(job.failedReason ?? err?.message ?? 'unknown').slice(0, MAX_REASON);
    const safeEnvelope = redactSecrets(job.data);
    const details = {
      queue,
      event_type: job.name,
      attempts_made: job.attemptsMade,
      failed_reason: failedReason,
      envelope: safeEnvelope,
    };

    getMetrics().deadLettersTotal.inc({ queue, event: eventLabel(job.name) });
    let audited: boolean | undefined;
    try {
      audited = await this.write({
        action: DEAD_LETTER_ACTION,
        workspaceId: envelope?.workspace_id ?? null,
        actorType: 'system',
        actorId: queue,
        resourceType: 'event',
        ...(eventId ? { resourceId: eventId, eventId } : job.id ? { resourceId: job.id } : {}),
        ...(envelope ? { correlationId: envelope.correlation_id } : {}),
        metadata: details,
      });
      return audited;
    } finally {
      // Logged even when the audit write failed: the log line is then the only trace of the dead letter.
      this.logger.error(
        { err, event_id: eventId ?? job.id, ...details, audited: audited ?? 'error' },
        'job failed for good: dead-lettered',
      );
    }
  }

  private write(entry: AuditEntry): Promise<boolean> {
    return recordEventAudit(this.auditService(), entry);
  }
}

/**
 * AuditLogService.record for rows about an event: the event's workspace may be gone (or never existed), and
 * losing the row to the foreign key would lose the trail, so it is then kept without the workspace link.
 */
export async function recordEventAudit(audit: AuditLogService, entry: AuditEntry): Promise<boolean> {
  try {
    return await audit.record(entry);
  } catch (err) {
    if ((err as { code?: string }).code !== '23503' || !entry.workspaceId) throw err;
    return audit.record({
      ...entry,
      workspaceId: null,
      metadata: { ...entry.metadata, workspace_id: entry.workspaceId },
    });
  }
}

/**
 * Envelopes are built without secrets, but a payload is free-form (test.event data) and a broken job can
 * carry anything: secret-looking keys are blanked at any depth and strings scrubbed like error messages.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v, depth + 1),
    ]),
  );
}
