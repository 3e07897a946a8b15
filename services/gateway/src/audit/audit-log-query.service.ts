import type { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { AuditLogQuery } from './audit-log.schemas';

/** The workspace's audit trail, newest first; every filter is an equality or range the indexes cover. */
export class AuditLogQueryService {
  constructor(private readonly rows: AuditLogRepository) {}

  async list(
    workspaceId: string,
    q: AuditLogQuery,
    after?: Keyset,
  ): Promise<KeysetPage<Record<string, unknown>>> {
    // One row more than the page tells keysetPage whether there is a next page.
    const rows = await this.rows.list(workspaceId, q, q.limit + 1, after);
    return keysetPage(
      rows,
      q.limit,
      (r) => ({ ...r, created_at: r.created_at.toISOString() }),
      (r) => ({ t: r.created_at.toISOString(), id: r.id }),
    );
  }
}
