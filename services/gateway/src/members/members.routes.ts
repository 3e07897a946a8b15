import { Router } from 'express';
import { listQuerySchema, toPage } from '@raptorflow/core/validation/pagination';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { addMemberBody, changeRoleBody, memberParams } from './member.schemas';
import type { MemberService } from './member.service';

export interface MemberRoutesDeps {
  members: MemberService;
  guards: WorkspaceGuards;
  cursors: CursorCodec;
}

/** Mounted at /v1/workspaces/:workspace_id/members; admin+ for everything, owner rules in the service. */
export function membersRouter({ members, guards, cursors }: MemberRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  router.use(guards.requireWorkspaceMember(), guards.requireWorkspaceRole('admin'));
  const actor = (req: { auth?: { userId: string }; workspace?: { role: 'owner' | 'admin' | 'member' } }) => ({
    userId: req.auth!.userId,
    role: req.workspace!.role,
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(listQuerySchema, req.query, 'query');
    const scope = `members:${req.workspace!.id}`;
    res.json(
      toPage(cursors, scope, await members.list(req.workspace!.id, q.limit, cursors.decode(q.cursor, scope))),
    );
  });

  router.post('/', async (req, res) => {
    const body = parseOrThrow(addMemberBody, req.body ?? {}, 'body');
    const member = await members.add(actor(req), req.workspace!.id, body.user_id, body.role);
    res.status(201).json(member);
  });

  router.patch('/:user_id', async (req, res) => {
    const { user_id } = parseOrThrow(memberParams, req.params, 'path');
    const body = parseOrThrow(changeRoleBody, req.body ?? {}, 'body');
    res.json(await members.changeRole(actor(req), req.workspace!.id, user_id, body.role));
  });

  router.delete('/:user_id', async (req, res) => {
    const { user_id } = parseOrThrow(memberParams, req.params, 'path');
    await members.remove(actor(req), req.workspace!.id, user_id);
    res.status(204).end();
  });

  return router;
}
