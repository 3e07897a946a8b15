import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, listQuerySchema, parseOrThrow } from '@raptorflow/shared';
import type { CursorCodec } from '@raptorflow/shared';
import type { WorkspaceGuards } from './workspace-access.guard';
import type { WorkspaceService } from './workspace.service';

export const createWorkspaceBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
});

export interface WorkspaceRoutesDeps {
  workspaces: WorkspaceService;
  guards: WorkspaceGuards;
  cursors: CursorCodec;
}

export function workspacesRouter({ workspaces, guards, cursors }: WorkspaceRoutesDeps): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const body = parseOrThrow(createWorkspaceBody, req.body ?? {}, 'body');
    const ws = await workspaces.create(req.auth!.userId, body.name);
    res.status(201).location(`/v1/workspaces/${ws.id}`).json(ws);
  });

  router.get('/', async (req, res) => {
    const userId = req.auth!.userId;
    const q = parseOrThrow(listQuerySchema, req.query, 'query');
    const scope = `workspaces:${userId}`;
    const { rows, more } = await workspaces.listForUser(userId, q.limit, cursors.decode(q.cursor, scope));
    const last = rows.at(-1);
    res.json({
      data: rows,
      next_cursor: more && last ? cursors.encode({ t: last.created_at, id: last.id }, scope) : null,
    });
  });

  router.get('/:workspace_id', guards.requireWorkspaceMember(), async (req, res) => {
    const ws = await workspaces.getForMember(req.workspace!.id, req.workspace!.role);
    if (!ws) throw new NotFoundError('Workspace not found');
    res.json(ws);
  });

  return router;
}
