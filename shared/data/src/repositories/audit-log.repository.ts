import type { Knex } from 'knex';
import type { Keyset } from '@raptorflow/core/validation/pagination';
import type { AuditLogRow } from './audit-log.rows';
import { orderByKeyset } from './keyset';

/** A row as written: ids and timestamps come from the database; JSON columns arrive serialised. */
export type AuditLogInsert = Omit<AuditLogRow, 'id' | 'created_at' | 'input' | 'output' | 'metadata'> & {
  input: string | null;
  output: string | null;
  metadata: string;
};

/** The columns the audit API answers with (everything but workspace_id, which the caller already knows). */
export type AuditLogViewRow = Omit<AuditLogRow, 'workspace_id'>;

const VIEW_COLUMNS = [
  'id',
  'actor_type',
  'actor_id',
  'action',
  'resource_type',
  'resource_id',
  'tool_name',
  'input',
  'output',
  'metadata',
  'agent_run_id',
  'event_id',
  'correlation_id',
  'created_at',
] as const;

/** Equality filters of the audit listing; each is a column an index covers. */
export interface AuditLogFilter {
  action?: string;
  actor_id?: string;
  actor_type?: string;
  resource_type?: string;
  resource_id?: string;
  tool_name?: string;
  correlation_id?: string;
  from?: string;
  to?: string;
}

const EQUALITY_FILTERS = [
  'action',
  'actor_id',
  'actor_type',
  'resource_type',
  'resource_id',
  'tool_name',
  'correlation_id',
] as const;

/**
 * A fragment for composed statements, not a query of its own: the INSERT of the audit rows given as a JSON
 * array of AuditLogInsert (JSON columns as text, as `insert` takes them) in the parameter `records` (`$7`).
 * A statement that writes what the rows describe takes it as one of its CTEs, so both commit in one round
 * trip (the runner's step end: agent-run-step.statements.ts). No conflict rule: rows with an event id go
 * through `insert`, and the composing caller must refuse them.
 */
export const auditInsertFromJsonSql = (records: `$${number}`): string => `INSERT INTO audit_logs
    (workspace_id, actor_type, actor_id, action, resource_type, resource_id, tool_name, input, output,
     metadata, agent_run_id, event_id, correlation_id)
  SELECT a.workspace_id, a.actor_type, a.actor_id, a.action, a.resource_type, a.resource_id, a.tool_name,
         a.input::jsonb, a.output::jsonb, a.metadata::jsonb, a.agent_run_id, a.event_id, a.correlation_id
    FROM jsonb_to_recordset(${records}::jsonb) AS a(
      workspace_id uuid, actor_type text, actor_id text, action text, resource_type text, resource_id text,
      tool_name text, input text, output text, metadata text, agent_run_id uuid, event_id uuid,
      correlation_id text)`;

/** All SQL of `audit_logs` (append-only): writing a row, and the workspace's trail newest first. */
export class AuditLogRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Inserts the row (in `trx` when the audit must commit with the change it describes). With an event id,
   * a second row for the same (event, action) is ignored: returns false then.
   */
  async insert(row: AuditLogInsert, trx?: Knex.Transaction): Promise<boolean> {
    const q = (trx ?? this.db)('audit_logs').insert(row);
    if (!row.event_id) {
      await q;
      return true;
    }
    const inserted = await q
      .onConflict(this.db.raw('(event_id, action) WHERE event_id IS NOT NULL'))
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  /**
   * Inserts event-keyed rows (every row has an event id) in one statement, for handlers that group-commit
   * their audit rows; a row whose (event, action) already exists is skipped. Returns the keys `event_id
   * action` of the rows actually written.
   */
  async insertEventRows(rows: AuditLogInsert[]): Promise<Set<string>> {
    const inserted = await this.db('audit_logs')
      .insert(rows)
      .onConflict(this.db.raw('(event_id, action) WHERE event_id IS NOT NULL'))
      .ignore()
      .returning<Array<{ event_id: string; action: string }>>(['event_id', 'action']);
    return new Set(inserted.map((r) => `${r.event_id} ${r.action}`));
  }

  /**
   * Inserts rows without event ids in one statement, in `trx` (the dispatch trails of concurrent calls,
   * committed together with what they describe).
   */
  async insertMany(rows: AuditLogInsert[], trx: Knex.Transaction): Promise<void> {
    if (rows.some((r) => r.event_id)) throw new Error('insertMany takes rows without an event id');
    await trx('audit_logs').insert(rows);
  }

  /** Up to `limit` rows of the workspace after the keyset, newest first (the caller asks one extra to page). */
  async list(
    workspaceId: string,
    f: AuditLogFilter,
    limit: number,
    after?: Keyset,
  ): Promise<AuditLogViewRow[]> {
    const query = this.db('audit_logs')
      .where({ workspace_id: workspaceId })
      .select<AuditLogViewRow[]>(...VIEW_COLUMNS)
      .limit(limit);
    orderByKeyset(query, 'desc', after);
    for (const k of EQUALITY_FILTERS) {
      const v = f[k];
      if (v !== undefined) query.andWhere(k, v);
    }
    if (f.from) query.andWhere('created_at', '>=', f.from);
    if (f.to) query.andWhere('created_at', '<', f.to);
    return query;
  }
}
