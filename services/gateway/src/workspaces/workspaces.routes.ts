import { Router } from 'express';
import { NotFoundError } from '@raptorflow/core/errors/app-error';
import { listQuerySchema, toPage } from '@raptorflow/core/validation/pagination';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { WorkspaceGuards } from './workspace-access.guard';
import { createWorkspaceBody } from './workspace.schemas';
import type { WorkspaceService } from './workspace.service';

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
    // Cursors are signed per user: one user's cursor is meaningless in another's list.
    const scope = `workspaces:${userId}`;
    const page = await workspaces.listForUser(userId, q.limit, cursors.decode(q.cursor, scope));
    res.json(toPage(cursors, scope, page));
  });

  router.get('/:workspace_id', guards.requireWorkspaceMember(), async (req, res) => {
    const ws = await workspaces.getForMember(req.workspace!.id, req.workspace!.role);
    if (!ws) throw new NotFoundError('Workspace not found');
    res.json(ws);
  });

  return router;
}
