import type { RequestHandler, Router } from 'express';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import type { AnyEndpoint } from './endpoint';
import type { EndpointTable } from './endpoint-table';
import { isThenable } from './handler-chain';
import { tagRouteTemplate } from './http-metrics.middleware';

export interface MountOptions<S> {
  /** The path the router is mounted at (`/admin/dead-letters`); every endpoint's path must start with it. */
  prefix?: string;
  services: S;
  /** Needed as soon as one endpoint has a workspace role. */
  guards?: WorkspaceGuards;
}

/**
 * Mounts each endpoint as one Express route of `router`, in the list's order (so `/agent-runs/stats` stays
 * ahead of `/agent-runs/:id`): the role's guards, then parseOrThrow of params, query and body, then the
 * handler. For a router of its own (the dead letters under the admin's authentication); the app's endpoints
 * go in one EndpointTable (tableEndpoints).
 */
export function mountEndpoints<S>(
  router: Router,
  endpoints: readonly AnyEndpoint<S>[],
  opts: MountOptions<S>,
) {
  const prefix = opts.prefix ?? '';
  for (const endpoint of endpoints) {
    if (!endpoint.path.startsWith(prefix))
      throw new Error(`${endpoint.method} ${endpoint.path} does not belong under ${prefix}`);
    const [first, ...rest] = endpointHandlers(endpoint, opts);
    router[endpoint.method](
      endpoint.path.slice(prefix.length) || '/',
      // The metrics label is the declared path: the template httpMetricsMiddleware would rebuild.
      tagRouteTemplate(endpoint.path, first!),
      ...rest,
    );
  }
}

/**
 * Adds each endpoint to the table, in the list's order, behind `front` when given (authentication and the
 * per-user limit for the signed-in ones): the same guards, parsing and handler as mountEndpoints.
 */
export function tableEndpoints<S>(
  table: EndpointTable,
  endpoints: readonly AnyEndpoint<S>[],
  opts: MountOptions<S> & { front?: RequestHandler },
) {
  for (const endpoint of endpoints)
    table.add(endpoint.method, endpoint.path, endpointHandlers(endpoint, opts), opts.front);
}

/** The role's guards, then the parsing of params, query and body, then the handler. */
function endpointHandlers<S>(endpoint: AnyEndpoint<S>, opts: MountOptions<S>): RequestHandler[] {
  const { handler } = endpoint;
  if (!handler) throw new Error(`${endpoint.method} ${endpoint.path} has no handler to mount`);
  // Not an async function: a handler that answers synchronously costs no promise here. A throw is caught
  // (→ next(err)); a returned promise is awaited, and its rejection passed on.
  const validate: RequestHandler = (req, res, next) => {
    const params = endpoint.params ? parseOrThrow(endpoint.params, req.params, 'path') : undefined;
    const query = endpoint.query ? parseOrThrow(endpoint.query, req.query, 'query') : undefined;
    const body = endpoint.body ? parseOrThrow(endpoint.body, req.body ?? {}, 'body') : undefined;
    const done = handler({ req, res, next, params, query, body }, opts.services);
    // A thenable is awaited as before (its rejection reaches Express); anything else is ignored as before.
    return isThenable(done) ? Promise.resolve(done).then(() => undefined) : undefined;
  };
  return [...guardsFor(endpoint, opts), validate];
}

function guardsFor(endpoint: AnyEndpoint, opts: MountOptions<unknown>): RequestHandler[] {
  const { role } = endpoint;
  if (role !== 'member' && role !== 'admin' && role !== 'owner') return [];
  const guards = opts.guards;
  if (!guards) throw new Error(`${endpoint.method} ${endpoint.path} needs the workspace guards`);
  // The member guard resolves the workspace and runs the per-workspace rate limit (its afterResolve).
  const member = guards.requireWorkspaceMember();
  return role === 'member' ? [member] : [member, guards.requireWorkspaceRole(role)];
}
