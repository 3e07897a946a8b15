import type { Knex } from 'knex';
import { getContext } from '@raptorflow/core/context/request-context';
import { AuditLogRepository } from '../repositories/audit-log.repository';
import type { AuditLogInsert } from '../repositories/audit-log.repository';
import type { ActorType } from '../repositories/audit-log.rows';

export interface AuditEntry {
  action: string;
  workspaceId?: string | null;
  actorType?: ActorType;
  actorId?: string | null;
  resourceType?: string;
  resourceId?: string;
  toolName?: string;
  input?: unknown;
  output?: unknown;
  metadata?: Record<string, unknown>;
  agentRunId?: string;
  /** When set, at most one row per (event, action) is ever written: redelivery is harmless. */
  eventId?: string;
  correlationId?: string;
}

/** Fills an audit row from the request/job context and writes it through the `audit_logs` repository. */
export class AuditLogService {
  private readonly rows: AuditLogRepository;

  constructor(opts: { db: Knex } | { rows: AuditLogRepository }) {
    this.rows = 'rows' in opts ? opts.rows : new AuditLogRepository(opts.db);
  }

  /** Writes one audit row; ids not given come from the request/job context. Returns false for a duplicate. */
  async record(entry: AuditEntry, trx?: Knex.Transaction): Promise<boolean> {
    return this.rows.insert(this.row(entry), trx);
  }

  /**
   * The row `record` would write, filled from the current context: for a caller that writes it inside a
   * statement of its own (a run step's end), called where `record` would have been.
   */
  row(entry: AuditEntry): AuditLogInsert {
    const ctx = getContext();
    const actorId = entry.actorId !== undefined ? entry.actorId : (ctx?.userId ?? null);
    return {
      workspace_id: entry.workspaceId !== undefined ? entry.workspaceId : (ctx?.workspaceId ?? null),
      actor_type: entry.actorType ?? (actorId ? ('user' as const) : ('system' as const)),
      actor_id: actorId,
      action: entry.action,
      resource_type: entry.resourceType ?? null,
      resource_id: entry.resourceId ?? null,
      tool_name: entry.toolName ?? null,
      input: entry.input === undefined ? null : JSON.stringify(entry.input),
      output: entry.output === undefined ? null : JSON.stringify(entry.output),
      metadata: JSON.stringify(entry.metadata ?? {}),
      agent_run_id: entry.agentRunId ?? null,
      event_id: entry.eventId ?? null,
      correlation_id: entry.correlationId ?? ctx?.correlationId ?? null,
    };
  }
}
