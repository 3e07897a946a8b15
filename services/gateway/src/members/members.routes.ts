import { listQuerySchema, toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { Request } from 'express';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { workspaceIdParams } from '../workspaces/workspace.schemas';
import { addMemberBody, changeRoleBody, memberParams, memberSchema } from './member.schemas';
import type { MemberService } from './member.service';

export interface MemberRoutesDeps {
  members: MemberService;
  cursors: CursorCodec;
}

const Member = memberSchema.meta({ id: 'Member' });
const define = endpointFactory<MemberRoutesDeps>();
// Admin+ for everything; the owner rules (grant, demote or remove an owner; never the last one) are the
// service's, which is why it is told the caller's role.
const actor = (req: Request) => ({ userId: req.auth!.userId, role: req.workspace!.role });

export const memberEndpoints = [
  define({
    method: 'get',
    path: '/v1/workspaces/:workspace_id/members',
    role: 'admin',
    tags: ['members'],
    summary: 'Members (admin+)',
    params: workspaceIdParams,
    query: listQuerySchema,
    responses: { 200: { schema: list(Member), description: 'A page' } },
    handler: async ({ req, res, query }, { members, cursors }) => {
      const scope = `members:${req.workspace!.id}`;
      const page = await members.list(req.workspace!.id, query.limit, cursors.decode(query.cursor, scope));
      res.json(toPage(cursors, scope, page));
    },
  }),
  define({
    method: 'post',
    path: '/v1/workspaces/:workspace_id/members',
    role: 'admin',
    tags: ['members'],
    summary: 'Add a member (admin+; only an owner grants owner)',
    params: workspaceIdParams,
    body: addMemberBody,
    bodyExample: { user_id: '6f1c2a9e-1d4b-4e0a-9d1c-0f6a3b2c1d4e', role: 'member' },
    responses: { 201: { schema: Member, description: 'Added' } },
    errors: [409],
    handler: async ({ req, res, body }, { members }) => {
      const member = await members.add(actor(req), req.workspace!.id, body.user_id, body.role);
      res.status(201).json(member);
    },
  }),
  define({
    method: 'patch',
    path: '/v1/workspaces/:workspace_id/members/:user_id',
    role: 'admin',
    tags: ['members'],
    summary: "Change a member's role (admin+; owner to grant/revoke owner; never the last owner)",
    params: memberParams,
    body: changeRoleBody,
    bodyExample: { role: 'admin' },
    responses: { 200: { schema: Member, description: 'Updated' } },
    errors: [404, 409],
    handler: async ({ req, res, params, body }, { members }) => {
      res.json(await members.changeRole(actor(req), req.workspace!.id, params.user_id, body.role));
    },
  }),
  define({
    method: 'delete',
    path: '/v1/workspaces/:workspace_id/members/:user_id',
    role: 'admin',
    tags: ['members'],
    summary: 'Remove a member (admin+; owner to remove an owner; never the last owner)',
    params: memberParams,
    responses: { 204: { description: 'Removed' } },
    errors: [404, 409],
    handler: async ({ req, res, params }, { members }) => {
      await members.remove(actor(req), req.workspace!.id, params.user_id);
      res.status(204).end();
    },
  }),
];
