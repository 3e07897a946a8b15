import { Router } from 'express';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { auditLogQuery } from './audit-log.schemas';
import type { AuditLogQueryService } from './audit-log-query.service';

export function auditLogsRouter(deps: {
  audit: AuditLogQueryService;
  guards: WorkspaceGuards;
  cursors: CursorCodec;
}): Router {
  const router = Router();
  router.get(
    '/',
    deps.guards.requireWorkspaceMember(),
    deps.guards.requireWorkspaceRole('admin'),
    async (req, res) => {
      const q = parseOrThrow(auditLogQuery, req.query, 'query');
      // The filters are part of the scope: a cursor only continues the listing it came from.
      const { cursor: _c, limit: _l, ...filters } = q;
      const scope = `audit:${req.workspace!.id}:${JSON.stringify(filters)}`;
      res.json(
        toPage(
          deps.cursors,
          scope,
          await deps.audit.list(req.workspace!.id, q, deps.cursors.decode(q.cursor, scope)),
        ),
      );
    },
  );
  return router;
}
