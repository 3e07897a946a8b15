import type { NextFunction, Request, RequestHandler, Response } from 'express';

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
    let index = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined && err !== null && err !== 'route') return done(err);
      const handler = handlers[index++];
      if (!handler) return done();
      try {
        const result: unknown = handler(req, res, next);
        // As the router does for a handler's promise: a rejection is the handler's error.
        if (isThenable(result))
          result.then(undefined, (reason: unknown) => next(reason || new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
