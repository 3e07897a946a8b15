import { NotFoundError } from '@raptorflow/core/errors/app-error';
import { listQuerySchema, toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import {
  createWorkspaceBody,
  updateWorkspaceBody,
  workspaceIdParams,
  workspaceSchema,
} from './workspace.schemas';
import type { WorkspaceService } from './workspace.service';

export interface WorkspaceRoutesDeps {
  workspaces: WorkspaceService;
  cursors: CursorCodec;
}

// A named component; `.meta({id})` registers it in zod's global registry, so it is made once, here.
const Workspace = workspaceSchema.meta({ id: 'Workspace' });
const define = endpointFactory<WorkspaceRoutesDeps>();

export const workspaceEndpoints = [
  define({
    method: 'post',
    path: '/v1/workspaces',
    role: 'user',
    tags: ['workspaces'],
    summary: 'Create a workspace; the caller becomes its owner',
    body: createWorkspaceBody,
    bodyExample: { name: 'Acme' },
    responses: {
      201: {
        schema: Workspace,
        description: 'Created; `workspace.created` is published in the same transaction',
      },
    },
    errors: [409],
    handler: async ({ req, res, body }, { workspaces }) => {
      const ws = await workspaces.create(req.auth!.userId, body.name);
      res.status(201).location(`/v1/workspaces/${ws.id}`).json(ws);
    },
  }),
  define({
    method: 'get',
    path: '/v1/workspaces',
    role: 'user',
    tags: ['workspaces'],
    summary: "The caller's workspaces with their role",
    query: listQuerySchema,
    responses: { 200: { schema: list(Workspace), description: 'A page' } },
    handler: async ({ req, res, query }, { workspaces, cursors }) => {
      const userId = req.auth!.userId;
      // Cursors are signed per user: one user's cursor is meaningless in another's list.
      const scope = `workspaces:${userId}`;
      const page = await workspaces.listForUser(userId, query.limit, cursors.decode(query.cursor, scope));
      res.json(toPage(cursors, scope, page));
    },
  }),
  define({
    method: 'get',
    path: '/v1/workspaces/:workspace_id',
    role: 'member',
    tags: ['workspaces'],
    summary: 'One workspace (members)',
    params: workspaceIdParams,
    responses: { 200: { schema: Workspace, description: 'The workspace' } },
    handler: async ({ req, res }, { workspaces }) => {
      const ws = await workspaces.getForMember(req.workspace!.id, req.workspace!.role);
      if (!ws) throw new NotFoundError('Workspace not found');
      res.json(ws);
    },
  }),
  define({
    method: 'patch',
    path: '/v1/workspaces/:workspace_id',
    role: 'admin',
    tags: ['workspaces'],
    summary: 'Rename a workspace (admins and owners); audited with the name before and after',
    params: workspaceIdParams,
    body: updateWorkspaceBody,
    bodyExample: { name: 'Acme Europe' },
    responses: { 200: { schema: Workspace, description: "The workspace, with the caller's role" } },
    handler: async ({ req, res, body }, { workspaces }) => {
      res.json(await workspaces.rename(req.workspace!.id, req.workspace!.role, body.name));
    },
  }),
];
