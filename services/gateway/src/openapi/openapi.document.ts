import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { WORKSPACE_ROLES, openApiPath } from '../http/endpoint';
import type { AnyEndpoint } from '../http/endpoint';
import { GATEWAY_ENDPOINTS } from '../http/endpoints.registry';
import { ERRORS, errorSchema, json, workspaceHeader } from './openapi.helpers';

/**
 * The OpenAPI 3.1 document is generated from the endpoint declarations, whose zod schemas the routes parse
 * with, so the contract and the validation cannot drift apart.
 */
export function buildOpenApiDocument(opts: { serverUrl?: string; endpoints?: readonly AnyEndpoint[] } = {}) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Supabase access token (HS256 with the project secret, or RS256/ES256 from its JWKS); `sub` is the user id.',
  });
  registry.registerComponent('securitySchemes', 'basicAuth', {
    type: 'http',
    scheme: 'basic',
    description: 'BULL_BOARD_USERNAME / BULL_BOARD_PASSWORD (admin pages only)',
  });
  for (const endpoint of opts.endpoints ?? GATEWAY_ENDPOINTS) registry.registerPath(routeConfig(endpoint));

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

/** The error statuses an endpoint can answer: those its role and schemas imply, and its own. */
export function errorStatuses(endpoint: AnyEndpoint): number[] {
  const codes = new Set(endpoint.errors ?? []);
  const add = (...c: number[]) => c.forEach((code) => codes.add(code));
  if (endpoint.body) add(400);
  if (endpoint.role === 'platform-admin') {
    add(401, 403, 429);
    if (endpoint.params || endpoint.query || endpoint.body) add(422);
  } else if (endpoint.role !== 'none') {
    // Authentication, the body limit, input rules (the workspace id's too) and the rate limits.
    add(401, 413, 422, 429);
    if (WORKSPACE_ROLES.includes(endpoint.role)) {
      add(403);
      // Without an id in the path the workspace may be the caller's oldest, and a user may have none.
      if (!endpoint.path.includes(':workspace_id')) add(404);
    }
  }
  return [...codes].sort((a, b) => a - b);
}

function routeConfig(endpoint: AnyEndpoint): RouteConfig {
  const scoped = WORKSPACE_ROLES.includes(endpoint.role) && !endpoint.path.includes(':workspace_id');
  const headers = scoped
    ? endpoint.headers
      ? workspaceHeader.extend(endpoint.headers.shape)
      : workspaceHeader
    : endpoint.headers;
  const bodySchema = endpoint.bodyDoc ?? endpoint.body;
  const responses: RouteConfig['responses'] = {};
  for (const [status, spec] of Object.entries(endpoint.responses))
    responses[status] = spec.schema
      ? {
          description: spec.description,
          content: {
            [spec.contentType ?? 'application/json']: {
              schema: spec.schema,
              ...(spec.example !== undefined ? { example: spec.example } : {}),
            },
          },
        }
      : { description: spec.description };
  for (const code of errorStatuses(endpoint)) responses[code] ??= json(errorSchema, ERRORS[code] ?? 'Error');
  return {
    method: endpoint.method,
    path: openApiPath(endpoint.path),
    tags: endpoint.tags,
    summary: endpoint.summary,
    ...(endpoint.description ? { description: endpoint.description } : {}),
    security: securityFor(endpoint),
    request: {
      ...(endpoint.params ? { params: endpoint.params } : {}),
      ...(endpoint.query ? { query: documented(endpoint.query) } : {}),
      ...(headers ? { headers } : {}),
      ...(bodySchema
        ? {
            body: {
              content: {
                'application/json': {
                  schema: bodySchema,
                  ...(endpoint.bodyExample !== undefined ? { example: endpoint.bodyExample } : {}),
                },
              },
            },
          }
        : {}),
    },
    responses,
  };
}

function securityFor(endpoint: AnyEndpoint): RouteConfig['security'] {
  if (endpoint.role === 'none') return [];
  if (endpoint.role === 'platform-admin') return [{ bearerAuth: [] }, { basicAuth: [] }];
  return [{ bearerAuth: [] }];
}

/** A query schema that transforms after parsing (the daily costs' defaults) is documented by its input. */
function documented(schema: z.ZodType): z.ZodObject {
  if (schema instanceof z.ZodPipe) return schema.in as z.ZodObject;
  return schema as z.ZodObject;
}
