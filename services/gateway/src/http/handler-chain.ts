import type { NextFunction, Request, RequestHandler, Response } from 'express';
import parseUrl from 'parseurl';

/**
 * Several path-less middlewares as one: Express's router pays for every layer on every request (a match
 * result object, param processing, prefix trimming, tracing-channel checks) though these match every path.
 * Behaves as the same handlers mounted one after the other with app.use: next() goes to the following one,
 * next('route') too (for a middleware it means next()), next(err) or a throw or a rejected promise leaves
 * the chain with that error, and next('router') leaves it with 'router', where the router takes over.
 */
export function handlerChain(...handlers: RequestHandler[]): RequestHandler {
  if (handlers.length === 1) return handlers[0]!;
  return (req: Request, res: Response, done: NextFunction) => {
    // `next` is set as a property, not declared as a const: the build keeps function names (keepNames), and
    // a named closure made per request would cost a defineProperty of its name on every request (2 % of
    // the gateway's time).
    const run = { index: 0, next: done };
    run.next = (err?: unknown) => {
      if (err !== undefined && err !== null && err !== 'route') return done(err);
      const handler = handlers[run.index++];
      if (!handler) return done();
      try {
        const result: unknown = handler(req, res, run.next);
        // As the router does for a handler's promise: a rejection is the handler's error.
        if (isThenable(result))
          result.then(undefined, (reason: unknown) => run.next(reason || new Error('Rejected promise')));
      } catch (thrown) {
        run.next(thrown);
      }
    };
    run.next();
  };
}

/** Whether a handler returned a promise (or another thenable), as the router checks. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * `handler` for the requests under `mount` (`/v1`, `/v1/…`; case-insensitive, as Express matches paths),
 * the others passed on. Unlike app.use(mount, handler) it leaves req.url and req.baseUrl as they are, so the
 * routes after it match whole paths; and it costs a string comparison, not a path match.
 */
export function underPath(mount: string, handler: RequestHandler): RequestHandler {
  return (req, res, next) => (isUnder(pathOf(req), mount) ? handler(req, res, next) : next());
}

/**
 * The request's path as Express routes it: parsed (and cached on the request) by the same parser, so an
 * absolute-form target (`GET http://host/v1/workspaces`) is under /v1 here exactly when a route matches it.
 */
export function pathOf(req: Request): string {
  return parseUrl(req)?.pathname ?? '';
}

/** Whether `url` (a request's path and query) is `mount` or below it. */
export function isUnder(url: string, mount: string): boolean {
  if (url.length < mount.length) return false;
  const head = url.slice(0, mount.length);
  if (head !== mount && head.toLowerCase() !== mount.toLowerCase()) return false;
  const c = url[mount.length];
  return c === undefined || c === '/' || c === '?';
}
