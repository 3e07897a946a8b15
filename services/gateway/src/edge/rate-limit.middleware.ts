import type { Request, RequestHandler, Response } from 'express';
import { RateLimitedError } from '@raptorflow/core/errors/app-error';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.service';

// Which decision a response currently advertises, and which subjects a request was already counted for.
// WeakMaps rather than res.locals / req fields: nothing else needs them and they vanish with the request.
const advertised = new WeakMap<Response, RateLimitDecision>();
const counted = new WeakMap<Request, Set<string>>();

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
function advertise(res: Response, decision: RateLimitDecision, windowSeconds: number): void {
  const current = advertised.get(res);
  if (current && !moreRestrictive(decision, current)) return;
  advertised.set(res, decision);
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(decision.reset));
  res.setHeader('RateLimit-Policy', `${decision.limit};w=${windowSeconds}`);
}

function rateLimit(
  limiter: RateLimiter,
  limitPerMinute: number,
  scope: string,
  subjectOf: (req: Request) => string | undefined,
): RequestHandler {
  if (!Number.isInteger(limitPerMinute) || limitPerMinute < 1)
    throw new Error(`rate limit for ${scope} must be a positive integer, got ${limitPerMinute}`);
  return async (req, res, next) => {
    const id = subjectOf(req);
    // No subject means the middleware sits before authentication / workspace resolution; those steps
    // answer 401/4xx themselves, and a limiter must never be the thing that rejects an unidentified request.
    if (!id) return next();
    // The same limit mounted twice on one path (app-wide and on a route) must not count a request twice.
    const subject = `${scope}:${id}`;
    const seen = counted.get(req) ?? new Set<string>();
    if (seen.has(subject)) return next();
    seen.add(subject);
    counted.set(req, seen);

    const decision = await limiter.consume(scope, id, limitPerMinute);
    // null: Redis is unavailable and the limiter fails open (see RateLimiter.consume); headers would lie.
    if (!decision) return next();
    advertise(res, decision, limiter.windowSeconds);
    if (!decision.allowed) return next(new RateLimitedError(decision.retryAfter));
    next();
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
