import type { Knex } from 'knex';
import { getDatabase } from '@raptorflow/core/db/database';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { AuditLogQuery } from './audit-log.schemas';

const COLUMNS = [
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

type AuditRow = Record<(typeof COLUMNS)[number], unknown> & { id: string; created_at: Date };

/** The workspace's audit trail, newest first; every filter is an equality or range the indexes cover. */
export class AuditLogQueryService {
  private readonly db: Knex;

  constructor(opts: { db?: Knex } = {}) {
    this.db = opts.db ?? getDatabase();
  }

  async list(
    workspaceId: string,
    q: AuditLogQuery,
    after?: Keyset,
  ): Promise<KeysetPage<Record<string, unknown>>> {
    const query = this.db('audit_logs')
      .where({ workspace_id: workspaceId })
      .select<AuditRow[]>(...COLUMNS)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(q.limit + 1);
    for (const f of [
      'action',
      'actor_id',
      'actor_type',
      'resource_type',
      'resource_id',
      'tool_name',
      'correlation_id',
    ] as const) {
      const v = q[f];
      if (v !== undefined) query.andWhere(f, v);
    }
    if (q.from) query.andWhere('created_at', '>=', q.from);
    if (q.to) query.andWhere('created_at', '<', q.to);
    if (after) query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.t, after.id]);
    return keysetPage(
      await query,
      q.limit,
      (r) => ({ ...r, created_at: r.created_at.toISOString() }),
      (r) => ({ t: r.created_at.toISOString(), id: r.id }),
    );
  }
}
