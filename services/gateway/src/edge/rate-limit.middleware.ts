import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimitedError } from '@raptorflow/core/errors/app-error';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.service';

// Which decision a response currently advertises, and (one field per scope) which subject of the scope a
// request was already counted for. Symbol-keyed fields, private to this module (request-shape.ts declares
// them on every request and response the gateway's server makes, so setting them adds no property): they
// vanish with the request like WeakMap entries would, but cost the garbage collector nothing extra (WeakMap
// entries are ephemerons, traced specially on every GC).
const ADVERTISED = Symbol('rateLimit.advertised');
const COUNTED_USER = Symbol('rateLimit.counted.user');
const COUNTED_WORKSPACE = Symbol('rateLimit.counted.workspace');
const COUNTED = { user: COUNTED_USER, workspace: COUNTED_WORKSPACE } as const;
type Scope = keyof typeof COUNTED;
type Advertising = Response & { [ADVERTISED]?: RateLimitDecision };
type Counting = Request & { [COUNTED_USER]?: string; [COUNTED_WORKSPACE]?: string };

/** The fields above, for request-shape.ts. */
export const RATE_LIMIT_FIELDS = {
  advertised: ADVERTISED,
  countedUser: COUNTED_USER,
  countedWorkspace: COUNTED_WORKSPACE,
} as const;

/** Refused beats allowed, then fewer remaining, then the longer wait. */
function moreRestrictive(a: RateLimitDecision, b: RateLimitDecision): boolean {
  if (a.allowed !== b.allowed) return !a.allowed;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining;
  return a.reset > b.reset;
}

/**
 * IETF draft-ietf-httpapi-ratelimit-headers fields. When the user and the workspace limit both apply, a client
 * must see the one that will stop it first, whichever middleware ran last.
 */
function advertise(res: Response, decision: RateLimitDecision, fixed: FixedFields): void {
  const current = (res as Advertising)[ADVERTISED];
  if (current && !moreRestrictive(decision, current)) return;
  (res as Advertising)[ADVERTISED] = decision;
  // Limit and policy follow from the limit alone (one window for all limits): when the user's and the
  // workspace's limits are equal, the second advertisement leaves them as the first one wrote them.
  if (current?.limit !== decision.limit) {
    // The middleware's own, formatted once (a decision always carries the limit asked).
    const own = decision.limit === fixed.limit;
    res.setHeader('RateLimit-Limit', own ? fixed.limitText : String(decision.limit));
    res.setHeader('RateLimit-Policy', own ? fixed.policy : `${decision.limit};w=${fixed.windowSeconds}`);
  }
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  if (current?.reset !== decision.reset) res.setHeader('RateLimit-Reset', String(decision.reset));
}

interface FixedFields {
  limit: number;
  limitText: string;
  policy: string;
  windowSeconds: number;
}

function rateLimit(
  limiter: RateLimiter,
  limitPerMinute: number,
  scope: Scope,
  subjectOf: (req: Request) => string | undefined,
): RequestHandler {
  if (!Number.isInteger(limitPerMinute) || limitPerMinute < 1)
    throw new Error(`rate limit for ${scope} must be a positive integer, got ${limitPerMinute}`);
  const { windowSeconds } = limiter;
  const fixed: FixedFields = {
    limit: limitPerMinute,
    limitText: String(limitPerMinute),
    policy: `${limitPerMinute};w=${windowSeconds}`,
    windowSeconds,
  };
  const field = COUNTED[scope];
  const decide = (res: Response, next: NextFunction, decision: RateLimitDecision | null): void => {
    // null: Redis is unavailable and the limiter fails open (see RateLimiter.consume); headers would lie.
    if (!decision) return next();
    advertise(res, decision, fixed);
    if (!decision.allowed) return next(new RateLimitedError(decision.retryAfter));
    next();
  };
  // Not an async function: with a local lease (nearly every request) the decision is synchronous, and no
  // promise is made for it.
  return (req, res, next) => {
    const id = subjectOf(req);
    // No subject means the middleware sits before authentication / workspace resolution; those steps
    // answer 401/4xx themselves, and a limiter must never be the thing that rejects an unidentified request.
    if (!id) return next();
    // The same limit mounted twice on one path (app-wide and on a route) must not count a request twice.
    if ((req as Counting)[field] === id) return next();
    (req as Counting)[field] = id;

    const decision = limiter.take(scope, id, limitPerMinute);
    if (!(decision instanceof Promise)) return decide(res, next, decision);
    return decision.then((d) => decide(res, next, d));
  };
}

/** Right after authentication: counts every request of `req.auth.userId`. */
export function rateLimitPerUser(limiter: RateLimiter, limitPerMinute: number): RequestHandler {
  return rateLimit(limiter, limitPerMinute, 'user', (req) => req.auth?.userId);
}

/**
 * After workspace resolution (e.g. as a route-level middleware right after requireWorkspaceMember()): counts
 * every request against `req.workspace.id`, whoever of its members sends it.
 */
export function rateLimitPerWorkspace(limiter: RateLimiter, limitPerMinute: number): RequestHandler {
  return rateLimit(limiter, limitPerMinute, 'workspace', (req) => req.workspace?.id);
}
