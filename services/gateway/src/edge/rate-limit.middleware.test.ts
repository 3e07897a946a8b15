import type { NextFunction, Request, Response } from 'express';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.service';
import { rateLimitPerUser, rateLimitPerWorkspace } from './rate-limit.middleware';

/** A limiter that answers each scope with the decision given for it. */
function limiter(decisions: Record<string, RateLimitDecision>): RateLimiter {
  return { windowSeconds: 60, take: (scope: string) => decisions[scope]! } as unknown as RateLimiter;
}

function response() {
  const headers = new Map<string, string>();
  const writes: string[] = [];
  const res = {
    setHeader: (name: string, value: string) => {
      writes.push(name);
      headers.set(name, value);
    },
  } as unknown as Response;
  return { res, headers, writes };
}

const allowed = (limit: number, remaining: number, reset: number): RateLimitDecision => ({
  allowed: true,
  limit,
  remaining,
  reset,
  retryAfter: 0,
});

function run(userLimit: number, workspaceLimit: number, l: RateLimiter) {
  const req = { auth: { userId: 'u1' }, workspace: { id: 'w1' } } as unknown as Request;
  const out = response();
  const next: NextFunction = jest.fn();
  void rateLimitPerUser(l, userLimit)(req, out.res, next);
  void rateLimitPerWorkspace(l, workspaceLimit)(req, out.res, next);
  expect(next).toHaveBeenCalledTimes(2);
  return out;
}

describe('rate limit headers', () => {
  it('advertise the limit that stops the client first, whichever ran last', () => {
    const l = limiter({ user: allowed(100, 90, 30), workspace: allowed(1000, 20, 40) });
    const { headers } = run(100, 1000, l);
    expect(Object.fromEntries(headers)).toEqual({
      'RateLimit-Limit': '1000',
      'RateLimit-Remaining': '20',
      'RateLimit-Reset': '40',
      'RateLimit-Policy': '1000;w=60',
    });
    const { headers: kept } = run(
      100,
      1000,
      limiter({ user: allowed(100, 5, 30), workspace: allowed(1000, 20, 40) }),
    );
    expect(kept.get('RateLimit-Remaining')).toBe('5');
    expect(kept.get('RateLimit-Limit')).toBe('100');
  });

  it('with equal limits and reset, the second advertisement rewrites only what changed', () => {
    const l = limiter({ user: allowed(500, 90, 30), workspace: allowed(500, 20, 30) });
    const { headers, writes } = run(500, 500, l);
    expect(headers.get('RateLimit-Remaining')).toBe('20');
    expect(headers.get('RateLimit-Limit')).toBe('500');
    expect(headers.get('RateLimit-Policy')).toBe('500;w=60');
    expect(writes.slice(4)).toEqual(['RateLimit-Remaining']);
  });
});

describe('counting', () => {
  it('counts a request once per scope however often the same limit is mounted, and each scope apart', () => {
    const taken: string[] = [];
    const l = {
      windowSeconds: 60,
      take: (scope: string, id: string) => {
        taken.push(`${scope}:${id}`);
        return allowed(10, 5, 30);
      },
    } as unknown as RateLimiter;
    const req = { auth: { userId: 'u1' }, workspace: { id: 'w1' } } as unknown as Request;
    const { res } = response();
    const next: NextFunction = jest.fn();
    const user = rateLimitPerUser(l, 10);
    const workspace = rateLimitPerWorkspace(l, 10);
    for (const mw of [user, workspace, user, rateLimitPerUser(l, 10), workspace]) void mw(req, res, next);
    expect(next).toHaveBeenCalledTimes(5);
    expect(taken).toEqual(['user:u1', 'workspace:w1']);
    // Another request is counted anew.
    const other = { auth: { userId: 'u1' }, workspace: { id: 'w1' } } as unknown as Request;
    void user(other, res, next);
    expect(taken).toEqual(['user:u1', 'workspace:w1', 'user:u1']);
  });
});
