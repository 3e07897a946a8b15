import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { listQuerySchema } from '@raptorflow/core/validation/pagination';
import { auditLogQuery, auditLogSchema } from '../audit/audit-log.schemas';
import { budgetSchema, putBudgetBody } from '../budgets/budget.schemas';
import { publishEventBody, publishEventResponse } from '../events/event.schemas';
import { addMemberBody, changeRoleBody, memberParams, memberSchema } from '../members/member.schemas';
import { agentSchema } from '../agents/agent.schemas';
import { createWorkspaceBody, workspaceIdParams, workspaceSchema } from '../workspaces/workspace.schemas';
import { registerAgentRunPaths } from './agent-runs.paths';
import { registerModelAndCostPaths } from './model-costs.paths';
import { json, list, route, workspaceHeader } from './openapi.helpers';

/**
 * The OpenAPI 3.1 document is generated from the same zod schemas the routes parse with, so the contract
 * and the validation cannot drift apart.
 */
// Named components; `.meta({id})` registers each in zod's global registry, so this runs once per process.
const W = workspaceSchema.meta({ id: 'Workspace' });
const M = memberSchema.meta({ id: 'Member' });
const A = agentSchema.meta({ id: 'Agent' });
const B = budgetSchema.meta({ id: 'Budget' });
const L = auditLogSchema.meta({ id: 'AuditLog' });

export function buildOpenApiDocument(opts: { serverUrl?: string } = {}) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Supabase access token (HS256 with the project secret, or RS256/ES256 from its JWKS); `sub` is the user id.',
  });
  const auth = [401, 413, 422, 429];

  route(registry, {
    method: 'post',
    path: '/v1/workspaces',
    tags: ['workspaces'],
    summary: 'Create a workspace; the caller becomes its owner',
    request: {
      body: { content: { 'application/json': { schema: createWorkspaceBody, example: { name: 'Acme' } } } },
    },
    ok: [201, json(W, 'Created; `workspace.created` is published in the same transaction')],
    errors: [400, ...auth],
  });
  route(registry, {
    method: 'get',
    path: '/v1/workspaces',
    tags: ['workspaces'],
    summary: "The caller's workspaces with their role",
    request: { query: listQuerySchema },
    ok: [200, json(list(W), 'A page')],
    errors: auth,
  });
  route(registry, {
    method: 'get',
    path: '/v1/workspaces/{workspace_id}',
    tags: ['workspaces'],
    summary: 'One workspace (members)',
    request: { params: workspaceIdParams },
    ok: [200, json(W, 'The workspace')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/workspaces/{workspace_id}/members',
    tags: ['members'],
    summary: 'Members (admin+)',
    request: { params: workspaceIdParams, query: listQuerySchema },
    ok: [200, json(list(M), 'A page')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'post',
    path: '/v1/workspaces/{workspace_id}/members',
    tags: ['members'],
    summary: 'Add a member (admin+; only an owner grants owner)',
    request: {
      params: workspaceIdParams,
      body: { content: { 'application/json': { schema: addMemberBody } } },
    },
    ok: [201, json(M, 'Added')],
    errors: [400, ...auth, 403, 409],
  });
  route(registry, {
    method: 'patch',
    path: '/v1/workspaces/{workspace_id}/members/{user_id}',
    tags: ['members'],
    summary: "Change a member's role (admin+; owner to grant/revoke owner; never the last owner)",
    request: { params: memberParams, body: { content: { 'application/json': { schema: changeRoleBody } } } },
    ok: [200, json(M, 'Updated')],
    errors: [400, ...auth, 403, 404, 409],
  });
  route(registry, {
    method: 'delete',
    path: '/v1/workspaces/{workspace_id}/members/{user_id}',
    tags: ['members'],
    summary: 'Remove a member (admin+; owner to remove an owner; never the last owner)',
    request: { params: memberParams },
    ok: [204, { description: 'Removed' }],
    errors: [...auth, 403, 404, 409],
  });
  route(registry, {
    method: 'get',
    path: '/v1/workspaces/{workspace_id}/budget',
    tags: ['budget'],
    summary: 'The monthly budget (members)',
    request: { params: workspaceIdParams },
    ok: [200, json(B, 'The budget')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'put',
    path: '/v1/workspaces/{workspace_id}/budget',
    tags: ['budget'],
    summary: 'Set the monthly budget (owner)',
    request: {
      params: workspaceIdParams,
      body: {
        content: { 'application/json': { schema: putBudgetBody, example: { monthly_budget_usd: 120 } } },
      },
    },
    ok: [200, json(B, 'The new budget')],
    errors: [400, ...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/agents',
    tags: ['agents'],
    summary: "The workspace's Council of Lords",
    request: { headers: workspaceHeader },
    ok: [200, json(list(A), 'All seven Lords')],
    errors: [...auth, 403, 404],
  });
  route(registry, {
    method: 'get',
    path: '/v1/audit-logs',
    tags: ['audit'],
    summary: 'The audit trail, newest first (admin+)',
    request: { headers: workspaceHeader, query: auditLogQuery },
    ok: [200, json(list(L), 'A page')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'post',
    path: '/v1/events',
    tags: ['events'],
    summary: 'Publish a test.* smoke event (admin+)',
    request: {
      headers: workspaceHeader,
      body: {
        content: {
          'application/json': {
            schema: publishEventBody,
            example: { event_type: 'test.event', payload: { message: 'hi' } },
          },
        },
      },
    },
    ok: [202, json(publishEventResponse, 'Accepted onto the bus')],
    errors: [400, ...auth, 403],
  });
  registerModelAndCostPaths(registry, auth);
  registerAgentRunPaths(registry, auth);
  for (const path of ['/health', '/health/ready', '/health/live'])
    registry.registerPath({
      method: 'get',
      path,
      tags: ['health'],
      security: [],
      responses: {
        200: { description: 'ok or degraded' },
        503: { description: 'down (a dependency is unreachable)' },
      },
    });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'RaptorFlow API',
      version: '1.0.0',
      description:
        'Multi-agent marketing OS. Every error is `{"error":{"code","message","details"?},"correlation_id"}`; ' +
        'lists are `{"data":[...],"next_cursor"}`; every response carries `X-Correlation-Id`.',
    },
    servers: [{ url: opts.serverUrl ?? '/' }],
    security: [{ bearerAuth: [] }],
  });
}
