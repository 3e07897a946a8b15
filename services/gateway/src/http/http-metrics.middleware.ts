import type { Request, RequestHandler } from 'express';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { isUnder, pathOf } from './handler-chain';
import { onResponseFinish } from './response-finish';

/**
 * Times every request into `raptorflow_http_request_duration_seconds`. Mount it before the routers.
 *
 * The route label is the matched template (`/v1/workspaces/:workspace_id/members/:user_id`), never the raw
 * URL: an id in a label would publish it on /metrics and add a series set per workspace. Requests no route
 * matched (404s, scanners, a guard refusing before the route) share `unmatched`.
 *
 * Express gives only part of the template: `req.route.path` is the innermost router's pattern, and
 * `req.baseUrl` is the *actual* path of the routers above it (with ids in it, for a router mounted at
 * `/workspaces/:workspace_id/members`). So the middleware watches the router set `req.baseUrl` as the request
 * enters each mounted router, when `req.params` holds exactly that mount's parameters, and rebuilds the
 * mount's template by putting the parameter names back in place of their values.
 */
export function httpMetricsMiddleware(opts: HttpMetricsOptions = {}): RequestHandler {
  const { httpRequestDuration } = getMetrics();
  // One bound child per (method, route, status) seen: its labels are validated once, not per request. The
  // set is as bounded as the series themselves (route templates, never raw paths).
  const children = new Map<string, { observe(seconds: number): void }>();
  const childOf = (method: string, route: string, status: string) => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = httpRequestDuration.labels({ method, route, status })));
    return child;
  };
  const templated = (opts.templatedMounts ?? []).map((m) => m.toLowerCase());
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    // Under a templated mount every route names its template itself (tagRouteTemplate): no tracking, and no
    // accessors defined on this request (each one would give req a hidden class of its own).
    const path = templated.length ? pathOf(req) : '';
    const track = !templated.some((m) => isUnder(path, m)) ? trackRouteTemplate(req) : undefined;
    onResponseFinish(res, () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = (track ? track.route : (req as Tagged)[ROUTE_TEMPLATE]) ?? 'unmatched';
      childOf(req.method, route, String(res.statusCode)).observe(seconds);
    });
    next();
  };
}

export interface HttpMetricsOptions {
  /**
   * Mount paths (`/v1`) whose routes all start with tagRouteTemplate's handler: requests under them take
   * their label from it instead of having the routers followed.
   */
  templatedMounts?: string[];
}

/** The request field tagRouteTemplate sets (request-shape.ts declares it). */
export const ROUTE_TEMPLATE = Symbol('raptorflow.routeTemplate');
type Tagged = Request & { [ROUTE_TEMPLATE]?: string };

/**
 * Wraps a route's first handler so the route, when it starts handling a request (when Express sets
 * req.route), names its full template for the metrics: what the tracking would rebuild, known up front.
 */
export function tagRouteTemplate(template: string, first: RequestHandler): RequestHandler {
  return (req, res, next) => {
    (req as Tagged)[ROUTE_TEMPLATE] = template;
    return first(req, res, next);
  };
}

/** The generic way: follows req.baseUrl and req.route through the routers (see below). */
function trackRouteTemplate(req: Request): { route: string | undefined } {
  const mounts = trackMountTemplates(req);
  const state: { route: string | undefined } = { route: undefined };
  // Captured when a route starts handling the request: when an error leaves a nested router, Express
  // restores req.baseUrl, so reading both at 'finish' would glue the inner pattern to the outer base.
  let current: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      current = value;
      const path = (value as { path?: unknown } | undefined)?.path;
      if (path === undefined) return;
      const base = mounts.template();
      // A router's root route ('/') is the mount itself: `/v1/workspaces/:workspace_id/members`.
      state.route = base && path === '/' ? base : `${base}${String(path)}`;
    },
  });
  return state;
}

interface Frame {
  /** req.baseUrl as Express set it (actual path). */
  actual: string;
  template: string;
}

/**
 * Follows req.baseUrl through the routers: entering a mount makes it longer (a frame is pushed), leaving it
 * or trying the next layer sets it back to a shorter value (frames are popped). A stack rather than a map
 * from actual to template: two mounts can match the same actual prefix one after the other (`/:id` first,
 * then `/x`), and only the one currently entered names it.
 */
function trackMountTemplates(req: Request): { template(): string } {
  const initial = req.baseUrl ?? '';
  const frames: Frame[] = [{ actual: initial, template: initial }];
  Object.defineProperty(req, 'baseUrl', {
    configurable: true,
    enumerable: true,
    get: () => frames[frames.length - 1]!.actual,
    set: (value: unknown) => {
      const next = typeof value === 'string' ? value : '';
      while (frames.length > 1 && !isWithin(next, frames[frames.length - 1]!.actual)) frames.pop();
      const top = frames[frames.length - 1]!;
      if (next === top.actual) return;
      if (!isWithin(next, top.actual)) {
        // Set from outside the router's own bookkeeping: keep it, but it names no template.
        frames.length = 1;
        frames[0] = { actual: next, template: next };
        return;
      }
      const suffix = next.slice(top.actual.length);
      frames.push({ actual: next, template: top.template + templateOf(suffix, req.params) });
    },
  });
  return { template: () => frames[frames.length - 1]!.template };
}

function isWithin(path: string, base: string): boolean {
  return path === base || (path.startsWith(base) && (base === '' || path[base.length] === '/'));
}

/**
 * `/workspaces/6f68…/members` with params `{workspace_id: '6f68…'}` → `/workspaces/:workspace_id/members`.
 * Segments are compared decoded (Express decodes parameter values); a wildcard's value is an array of
 * segments and becomes `*name`.
 */
function templateOf(suffix: string, params: Request['params'] | undefined): string {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return suffix;
  const segments = suffix.split('/');
  const decoded = segments.map(safeDecode);
  for (const [name, value] of entries) {
    if (Array.isArray(value)) {
      const run = value.map(String);
      for (let i = 1; i + run.length <= decoded.length; i++) {
        if (run.length && run.every((v, k) => decoded[i + k] === v)) {
          segments.splice(i, run.length, `*${name}`);
          decoded.splice(i, run.length, `*${name}`);
          break;
        }
      }
      continue;
    }
    const i = decoded.indexOf(String(value));
    if (i > 0) segments[i] = decoded[i] = `:${name}`;
  }
  return segments.join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
