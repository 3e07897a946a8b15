import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { handlerChain, isUnder, underPath } from './handler-chain';

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

describe('underPath', () => {
  it('matches the mount as Express would: itself, below it, with a query, in any case', () => {
    for (const url of ['/v1', '/v1/', '/v1/agents', '/v1?x=1', '/V1/agents', '/v1/agents?limit=2'])
      expect(isUnder(url, '/v1')).toBe(true);
    for (const url of ['/', '/v', '/v10', '/v1agents', '/health', '/v2/v1', '/%761/agents'])
      expect(isUnder(url, '/v1')).toBe(false);
  });

  it('runs the handler under the mount, leaving req.url as it is, and passes the others on', () => {
    const inner = jest.fn((_q: Request, _s: Response, next: NextFunction) => next());
    const outer = jest.fn();
    const handler = underPath('/v1', inner);
    const under = { url: '/v1/agents' } as Request;
    void handler(under, res, outer);
    expect(inner).toHaveBeenCalledTimes(1);
    expect(under.url).toBe('/v1/agents');
    void handler({ url: '/health' } as Request, res, outer);
    expect(inner).toHaveBeenCalledTimes(1);
    expect(outer).toHaveBeenCalledTimes(2);
  });

  it('reads the path as Express routes it: an absolute-form target is under the mount by its path', () => {
    const inner = jest.fn();
    const outer = jest.fn();
    const handler = underPath('/v1', inner);
    for (const url of ['http://localhost/v1/workspaces', 'http://h:80/V1?x=1', '/v1/agents?x=http://a/'])
      void handler({ url } as Request, res, outer);
    expect(inner).toHaveBeenCalledTimes(3);
    for (const url of ['http://localhost/health', 'http://v1/agents'])
      void handler({ url } as Request, res, outer);
    expect(inner).toHaveBeenCalledTimes(3);
    expect(outer).toHaveBeenCalledTimes(2);
  });
});
