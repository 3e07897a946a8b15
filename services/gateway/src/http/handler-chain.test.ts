import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { handlerChain } from './handler-chain';

const req = {} as Request;
const res = {} as Response;

/** Runs the chain and resolves with what it passed to its own next (undefined when it called next()). */
function run(chain: RequestHandler): Promise<unknown> {
  return new Promise((resolve) => {
    const done: NextFunction = (err?: unknown) => resolve(err);
    void chain(req, res, done);
  });
}

describe('handlerChain', () => {
  it('runs the handlers in order, next("route") counting as next(), then leaves with no error', async () => {
    const seen: string[] = [];
    const chain = handlerChain(
      (_q, _s, next) => (seen.push('a'), next()),
      (_q, _s, next) => (seen.push('b'), next('route')),
      async (_q, _s, next) => (seen.push('c'), next()),
    );
    expect(await run(chain)).toBeUndefined();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('leaves with the error of next(err), a throw or a rejection, skipping the handlers after it', async () => {
    const boom = new Error('boom');
    const after = jest.fn();
    const cases: RequestHandler[] = [
      (_q, _s, next) => next(boom),
      () => {
        throw boom;
      },
      async () => {
        throw boom;
      },
    ];
    for (const failing of cases)
      expect(await run(handlerChain((_q, _s, next) => next(), failing, after))).toBe(boom);
    expect(after).not.toHaveBeenCalled();
    expect(await run(handlerChain(() => Promise.reject(undefined), after))).toEqual(
      new Error('Rejected promise'),
    );
  });

  it('passes next("router") on for the router to leave', async () => {
    expect(await run(handlerChain((_q, _s, next) => next('router'), jest.fn()))).toBe('router');
  });

  it('lets a handler answer without calling next', async () => {
    const done = jest.fn();
    const after = jest.fn();
    handlerChain((_q, _s) => undefined, after)(req, res, done);
    expect(done).not.toHaveBeenCalled();
    expect(after).not.toHaveBeenCalled();
  });
});
