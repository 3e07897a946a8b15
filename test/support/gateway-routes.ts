import type { Express } from 'express';

/**
 * Every route the gateway mounts, with the inputs it reads: path parameters, query fields and a valid body.
 * The route fuzzes send hostile values in each of them; `mountedRoutes` reads the app's router so a route
 * added to app.ts without an entry here fails the fuzz (see gateway-fuzz.int.test.ts).
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express syntax; the parameter names are the field names of errors (`path.<name>`). */
  path: string;
  /** The query fields the route reads (all optional); a workspace_id among them is the guard's. */
  query: string[];
  /** A body the route accepts; each top-level key is fuzzed in turn. */
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

const LIST = ['limit', 'cursor'];

export function gatewayRoutes(ids: RouteIds): RouteSpec[] {
  const runsQuery = [...LIST, 'status', 'agent', 'from', 'to', 'workspace_id'];
  return [
    { method: 'GET', path: '/health', query: [] },
    { method: 'GET', path: '/health/ready', query: [] },
    { method: 'GET', path: '/health/live', query: [] },
    { method: 'GET', path: '/metrics', query: [] },
    { method: 'GET', path: '/openapi.json', query: [] },
    { method: 'GET', path: '/docs', query: [] },
    { method: 'GET', path: '/docs/init.js', query: [] },
    { method: 'POST', path: '/v1/workspaces', query: [], body: { name: 'fuzz' } },
    { method: 'GET', path: '/v1/workspaces', query: LIST },
    { method: 'GET', path: '/v1/workspaces/:workspace_id', query: ['workspace_id'] },
    { method: 'GET', path: '/v1/workspaces/:workspace_id/members', query: [...LIST, 'workspace_id'] },
    {
      method: 'POST',
      path: '/v1/workspaces/:workspace_id/members',
      query: ['workspace_id'],
      body: { user_id: ids.member, role: 'member' },
    },
    {
      method: 'PATCH',
      path: '/v1/workspaces/:workspace_id/members/:user_id',
      query: ['workspace_id'],
      body: { role: 'member' },
    },
    { method: 'DELETE', path: '/v1/workspaces/:workspace_id/members/:user_id', query: ['workspace_id'] },
    { method: 'GET', path: '/v1/workspaces/:workspace_id/budget', query: ['workspace_id'] },
    {
      method: 'PUT',
      path: '/v1/workspaces/:workspace_id/budget',
      query: ['workspace_id'],
      body: { monthly_budget_usd: 1_000 },
    },
    { method: 'GET', path: '/v1/workspaces/:workspace_id/guardrails', query: ['workspace_id'] },
    {
      method: 'PUT',
      path: '/v1/workspaces/:workspace_id/guardrails',
      query: ['workspace_id'],
      body: { banned_phrases: ['x'], banned_claims: [], required_disclaimers: [] },
    },
    { method: 'GET', path: '/v1/agents', query: ['workspace_id'] },
    {
      method: 'GET',
      path: '/v1/audit-logs',
      query: [
        ...LIST,
        ...['action', 'actor_id', 'actor_type', 'resource_type', 'resource_id', 'tool_name'],
        ...['correlation_id', 'from', 'to', 'workspace_id'],
      ],
      dates: ['from', 'to'],
    },
    {
      method: 'POST',
      path: '/v1/events',
      query: ['workspace_id'],
      body: { event_type: 'test.event', payload: { message: 'fuzz' } },
    },
    {
      method: 'POST',
      path: '/v1/model/dispatch',
      query: ['workspace_id'],
      body: { model: 'fast', messages: [{ role: 'user', content: 'hi' }], system: 's', max_tokens: 8 },
    },
    { method: 'GET', path: '/v1/costs/summary', query: ['month', 'workspace_id'], dates: ['month'] },
    { method: 'GET', path: '/v1/costs/daily', query: ['from', 'to', 'workspace_id'], dates: ['from', 'to'] },
    {
      method: 'POST',
      path: '/v1/agent-runs',
      query: ['workspace_id'],
      body: { agent: 'cognition', input: { topic: 't' }, model: 'fast' },
    },
    { method: 'GET', path: '/v1/agent-runs', query: runsQuery, dates: ['from', 'to'] },
    {
      method: 'GET',
      path: '/v1/agent-runs/stats',
      query: ['from', 'to', 'workspace_id'],
      dates: ['from', 'to'],
    },
    { method: 'GET', path: '/v1/agent-runs/:id', query: ['workspace_id'] },
    { method: 'POST', path: '/v1/agent-runs/:id/cancel', query: ['workspace_id'] },
    { method: 'GET', path: '/v1/agent-runs/:id/events', query: ['last_event_id', 'workspace_id'] },
    { method: 'GET', path: '/admin/queues', query: [], admin: true },
    { method: 'GET', path: '/admin/events/failed', query: ['limit', 'queue'], admin: true },
    { method: 'POST', path: '/admin/events/:event_id/replay', query: [], admin: true },
  ];
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
  handle: { stack?: Layer[] };
}

/**
 * `METHOD /path` of every route the app serves, read from Express's router (router 2: layers keep their
 * rawPath). A mounted sub-application (Bull Board) counts as its mount path, `GET` being its entry page.
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
      } else if (layer.name === 'mounted_app') found.push(`GET ${join(prefix, path)}`);
      else if (layer.handle.stack) walk(layer.handle.stack, join(prefix, path));
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}
