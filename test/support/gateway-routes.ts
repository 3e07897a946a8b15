import type { Express } from 'express';
import { z } from 'zod';
import { WORKSPACE_ROLES } from '../../services/gateway/src/http/endpoint';
import type { AnyEndpoint } from '../../services/gateway/src/http/endpoint';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';

/**
 * Every route the gateway serves, read from its endpoint registry, with the inputs each reads: path
 * parameters, query fields and a valid body. The route fuzzes send hostile values in each of them;
 * `mountedRoutes` reads the app's router, so a route mounted without a declaration (or declared and not
 * mounted) fails the registry check (endpoint-registry.int.test.ts).
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express syntax; the parameter names are the field names of errors (`path.<name>`). */
  path: string;
  /** The query fields the route reads (all optional); a workspace_id among them is the guard's. */
  query: string[];
  /** A body the route accepts (its declared example); each top-level key is fuzzed in turn. */
  body?: Record<string, unknown>;
  /** Needs a platform admin (ADMIN_USER_IDS). */
  admin?: boolean;
  /** Dates of this route's query, refused outside 1970–9999. */
  dates?: string[];
}

/** The valid values a fuzz substitutes for path parameters and body placeholders. */
export interface RouteIds {
  workspace: string;
  member: string;
  run: string;
}

// Every date filter of the API has one of these names (and uses the shared date schemas).
const DATE_FIELDS = ['from', 'to', 'month', 'as_of'];

/** `METHOD /path` as the router and the fuzzes spell it. */
export const routeKey = (e: { method: string; path: string }) => `${e.method.toUpperCase()} ${e.path}`;

/** The query fields an endpoint reads: its schema's, and the guard's workspace_id on workspace routes. */
export function queryFields(endpoint: AnyEndpoint): string[] {
  const fields = new Set<string>();
  const schema = endpoint.query instanceof z.ZodPipe ? endpoint.query.in : endpoint.query;
  if (schema instanceof z.ZodObject) Object.keys(schema.shape).forEach((k) => fields.add(k));
  if (WORKSPACE_ROLES.includes(endpoint.role)) fields.add('workspace_id');
  return [...fields];
}

/** The declared example body, with ids that must exist (a member to change) swapped for real ones. */
function validBody(endpoint: AnyEndpoint, ids: RouteIds): Record<string, unknown> | undefined {
  if (!endpoint.body) return undefined;
  const example = endpoint.bodyExample as Record<string, unknown> | undefined;
  if (!example) throw new Error(`${routeKey(endpoint)} declares a body but no bodyExample to fuzz from`);
  return 'user_id' in example ? { ...example, user_id: ids.member } : { ...example };
}

export function gatewayRoutes(ids: RouteIds): RouteSpec[] {
  return GATEWAY_ENDPOINTS.map((endpoint) => {
    const query = queryFields(endpoint);
    const body = validBody(endpoint, ids);
    const dates = query.filter((f) => DATE_FIELDS.includes(f));
    return {
      method: endpoint.method.toUpperCase() as RouteSpec['method'],
      path: endpoint.path,
      query,
      ...(body ? { body } : {}),
      ...(endpoint.role === 'platform-admin' ? { admin: true } : {}),
      ...(dates.length ? { dates } : {}),
    };
  });
}

/** Valid path parameters: the fuzz's workspace, its member, its finished run. */
export function paramValue(name: string, ids: RouteIds): string {
  if (name === 'workspace_id') return ids.workspace;
  if (name === 'user_id') return ids.member;
  if (name === 'id') return ids.run;
  // A well-formed event id no queue holds: the replay answers 404 instead of re-running anything.
  return '00000000-0000-4000-8000-000000000000';
}

export function paramNames(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
}

/** `/a/:x` with each parameter replaced by its (already encoded) value. */
export function fillPath(path: string, values: (name: string) => string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => values(name));
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: string;
  name: string;
  handle: { stack?: Layer[]; endpointRoutes?: () => string[] };
}

/**
 * `METHOD /path` of every route the app serves, read from Express's router (router 2: layers keep their
 * rawPath) and from the endpoint table's layer (http/endpoint-table.ts). A mounted sub-application (Bull
 * Board) counts as its mount path, `GET` being its entry page.
 */
export function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const join = (a: string, b: string) => `${a}/${b}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const path = typeof layer.rawPath === 'string' ? layer.rawPath : '';
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          found.push(`${method.toUpperCase()} ${join(prefix, layer.route.path)}`);
      } else if (layer.handle.endpointRoutes) {
        for (const route of layer.handle.endpointRoutes()) found.push(route.replace(' ', ` ${prefix}`));
      } else if (layer.name === 'mounted_app') found.push(`GET ${join(prefix, path)}`);
      else if (layer.handle.stack) walk(layer.handle.stack, join(prefix, path));
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}
