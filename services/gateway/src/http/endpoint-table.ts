import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { nameServerRoute } from '@raptorflow/core/telemetry/spans';
import { handlerChain, pathOf } from './handler-chain';
import { tagRouteTemplate } from './http-metrics.middleware';

/**
 * The endpoints as one Express layer: a table keyed by path segment instead of a route layer per endpoint.
 * Express tries its layers one by one (a regular-expression match, a result object and the router's
 * bookkeeping each), so a request paid for every endpoint declared before its own; here it pays for one
 * lookup. Matching is Express 5's, so moving endpoints into the table changes no answer:
 *
 * - paths match case-insensitively, with one optional trailing slash; a parameter is one non-empty segment,
 *   percent-decoded (a value that cannot be decoded is a 400, as the router's);
 * - among the routes whose path matches, the first declared that handles the method wins (HEAD is served
 *   by GET), and each path-matching route before it has its parameters decoded first, as Express would;
 * - a route's group may put a front before it (authentication for /v1), run before anything of the route,
 *   as when that front was a layer of its own ahead of the routes;
 * - entering a route sets req.params and req.route, names the metrics label and the trace's server span
 *   after the template; a miss passes the request on untouched.
 */
export class EndpointTable {
  private readonly root = new TrieNode();
  private readonly all: TableRoute[] = [];

  /**
   * Adds a route after those already added; `front` runs before the route's own handlers (and before a
   * parameter that cannot be decoded is reported).
   */
  add(method: string, path: string, handlers: RequestHandler[], front?: RequestHandler): void {
    const parts = segmentsOf(path);
    if (!parts || parts.some((p) => p === '' || /[*?{}()]/.test(p)))
      throw new Error(`${method} ${path}: only static segments and :name parameters go in the table`);
    let node = this.root;
    const paramNames: string[] = [];
    const paramAt: number[] = [];
    parts.forEach((part, i) => {
      if (part.startsWith(':')) {
        paramNames.push(part.slice(1));
        paramAt.push(i);
        node = node.param ??= new TrieNode();
      } else {
        const key = part.toLowerCase();
        let child = node.statics.get(key);
        if (!child) node.statics.set(key, (child = new TrieNode()));
        node = child;
      }
    });
    const upper = method.toUpperCase();
    const info = { path, methods: { [method.toLowerCase()]: true } };
    const enter: RequestHandler = (req, _res, next) => {
      // What the router would set as the route starts, for the request log, the metrics and the trace.
      (req as { route?: unknown }).route = info;
      nameServerRoute(path);
      next();
    };
    const route: TableRoute = {
      method: upper,
      path,
      index: this.all.length,
      paramNames,
      paramAt,
      front,
      chain: handlerChain(...(front ? [front] : []), tagRouteTemplate(path, enter), ...handlers),
    };
    node.routes.push(route);
    this.all.push(route);
  }

  /** `METHOD /path` of every route, in the order added (the registry checks read it). */
  get routes(): string[] {
    return this.all.map((r) => `${r.method} ${r.path}`);
  }

  /** The table as one Express middleware. */
  middleware(): RequestHandler & { endpointRoutes: () => string[] } {
    const handler = (req: Request, res: Response, next: NextFunction) => {
      const pathname = pathOf(req);
      const found = pathname ? this.lookup(req.method, pathname) : undefined;
      if (!found) return next();
      if ('error' in found) {
        // As the router: the front ahead of that route has run, then the error goes to the error handlers.
        const front = found.route.front;
        return front ? front(req, res, (err?: unknown) => next(err ?? found.error)) : next(found.error);
      }
      req.params = found.params;
      return found.route.chain(req, res, next);
    };
    return Object.assign(handler, { endpointRoutes: () => this.routes });
  }

  /** The route for a method and path (percent-encoded, as received), with its decoded parameters. */
  lookup(method: string, pathname: string): Match | undefined {
    const parts = segmentsOf(pathname);
    if (!parts) return undefined;
    const candidates: Candidate[] = [];
    collect(this.root, parts, 0, [], candidates);
    if (candidates.length === 0) return undefined;
    if (candidates.length > 1) candidates.sort((a, b) => a.route.index - b.route.index);
    for (const { route, values } of candidates) {
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      for (let i = 0; i < route.paramNames.length; i++) {
        const raw = values[i]!;
        try {
          params[route.paramNames[i]!] = raw.includes('%') ? decodeURIComponent(raw) : raw;
        } catch (err) {
          return { route, error: decodeError(raw, err) };
        }
      }
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    }
    return undefined;
  }
}

export type Match =
  { route: TableRoute; params: Record<string, string> } | { route: TableRoute; error: unknown };

interface TableRoute {
  method: string;
  path: string;
  /** Declaration order: among routes matching a path, the first declared wins. */
  index: number;
  paramNames: string[];
  /** The segment index of each parameter. */
  paramAt: number[];
  front?: RequestHandler;
  chain: RequestHandler;
}

class TrieNode {
  readonly statics = new Map<string, TrieNode>();
  param?: TrieNode;
  /** Routes ending here, in declaration order. */
  readonly routes: TableRoute[] = [];
}

interface Candidate {
  route: TableRoute;
  /** The raw values of the route's parameters, in order. */
  values: string[];
}

/**
 * `/a/b/` → ['a', 'b']: one trailing slash is allowed, as Express's non-strict matching does. Undefined for
 * a path that does not start with a slash (no route can match it).
 */
function segmentsOf(path: string): string[] | undefined {
  if (path[0] !== '/') return undefined;
  const parts = path.split('/');
  parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Every route whose path matches `parts`, static segments and parameters alike (Express tries them all). */
function collect(node: TrieNode, parts: string[], i: number, values: string[], out: Candidate[]): void {
  if (i === parts.length) {
    for (const route of node.routes) out.push({ route, values });
    return;
  }
  const part = parts[i]!;
  if (part === '') return;
  const child = node.statics.get(part) ?? staticIgnoringCase(node, part);
  if (child) collect(child, parts, i + 1, values, out);
  if (node.param) collect(node.param, parts, i + 1, [...values, part], out);
}

/**
 * Express matches without case sensitivity the way a regular expression's `i` flag does: ASCII letters
 * fold, other characters match only themselves. Declared segments are lower-case ASCII.
 */
function staticIgnoringCase(node: TrieNode, part: string): TrieNode | undefined {
  const lower = part.toLowerCase();
  if (lower === part) return undefined;
  const child = node.statics.get(lower);
  if (!child) return undefined;
  for (let i = 0; i < part.length; i++) {
    const a = part.charCodeAt(i);
    if (a > 0x7f && a !== lower.charCodeAt(i)) return undefined;
  }
  return child;
}

/** The router's error for a parameter it cannot decode: a 400 naming the value. */
function decodeError(raw: string, err: unknown): unknown {
  if (!(err instanceof URIError)) return err;
  return Object.assign(err, { message: `Failed to decode param '${raw}'`, status: 400, statusCode: 400 });
}
