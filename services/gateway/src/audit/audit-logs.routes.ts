import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { auditLogQuery, auditLogSchema } from './audit-log.schemas';
import type { AuditLogQueryService } from './audit-log-query.service';

export interface AuditRoutesDeps {
  audit: AuditLogQueryService;
  cursors: CursorCodec;
}

const AuditLog = auditLogSchema.meta({ id: 'AuditLog' });
const define = endpointFactory<AuditRoutesDeps>();

export const auditEndpoints = [
  define({
    method: 'get',
    path: '/v1/audit-logs',
    role: 'admin',
    tags: ['audit'],
    summary: 'The audit trail, newest first (admin+)',
    query: auditLogQuery,
    responses: { 200: { schema: list(AuditLog), description: 'A page' } },
    handler: async ({ req, res, query }, { audit, cursors }) => {
      // The filters are part of the scope: a cursor only continues the listing it came from.
      const { cursor: _c, limit: _l, ...filters } = query;
      const scope = `audit:${req.workspace!.id}:${JSON.stringify(filters)}`;
      const page = await audit.list(req.workspace!.id, query, cursors.decode(query.cursor, scope));
      res.json(toPage(cursors, scope, page));
    },
  }),
];
