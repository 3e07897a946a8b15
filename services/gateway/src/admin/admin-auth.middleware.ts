import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import {
  AppError,
  PermissionDeniedError,
  RateLimitedError,
  ServiceUnavailableError,
  isAppError,
} from '@raptorflow/core/errors/app-error';
import { updateContext } from '@raptorflow/core/context/request-context';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { AdminLoginThrottle, LoginAttempt } from './admin-login-throttle.service';

/**
 * Who may open an admin page: an operator with the Bull Board basic-auth credentials (what a browser can
 * send by itself, including for the board's static assets), or a platform admin (`ADMIN_USER_IDS`) with a
 * Bearer JWT (what scripts and API clients send).
 */

/** Anything that turns a token into a user id; the gateway's JwtVerifier is one. */
export interface TokenVerifier {
  verify(token: string): Promise<{ userId: string }>;
}

export interface AdminAuthOptions {
  /** Both set → basic auth is accepted; either missing → it is not. */
  basic: { username: string | undefined; password: string | undefined };
  adminUserIds: readonly string[];
  verifier: TokenVerifier;
  /** Failed attempts per client address; shared by every admin mount so one count covers them all. */
  throttle: Pick<AdminLoginThrottle, 'reserve'>;
  realm: string;
  logger?: Logger;
}

// Scheme names are case-insensitive (RFC 9110 §11.1).
const BASIC = /^Basic\s+([A-Za-z0-9+/=_-]+)$/i;
const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A 401 that makes a browser show its login box: the shared UnauthenticatedError challenges with `Bearer`,
 * which a browser cannot answer.
 */
export class AdminUnauthenticatedError extends AppError {
  constructor(message: string, realm: string) {
    super('unauthenticated', 401, message, undefined, {
      'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"`,
    });
  }
}

/**
 * Hashing first gives both sides the same length, so timingSafeEqual neither throws nor leaks the length
 * of the configured secret through an early return.
 */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function decodeBasic(encoded: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  // The user name cannot contain a colon (RFC 7617 §2); the password can.
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** What checking the presented credentials came to; `guess` marks the failures that count as one. */
type Outcome = { ok: true; who: Record<string, string> } | { ok: false; error: Error; guess: boolean };

export function requireAdmin(opts: AdminAuthOptions): RequestHandler {
  const { username, password } = opts.basic;
  const basicEnabled = username !== undefined && password !== undefined;
  // ADMIN_USER_IDS is typed by people; JWT subjects are UUIDs whose case may differ.
  const admins = new Set(opts.adminUserIds.map((id) => id.toLowerCase()));
  const challenge = (message: string) => new AdminUnauthenticatedError(message, opts.realm);

  const checkBasic = (encoded: string): Outcome => {
    const creds = decodeBasic(encoded);
    if (!basicEnabled || !creds)
      return { ok: false, error: challenge('Invalid user name or password'), guess: true };
    // Both halves are always compared and only then combined (`&`, not `&&`): the time a refusal takes must
    // not tell a guesser that the user name was already wrong.
    const userOk = sameSecret(creds.username, username);
    const passwordOk = sameSecret(creds.password, password);
    if (!(Number(userOk) & Number(passwordOk)))
      return { ok: false, error: challenge('Invalid user name or password'), guess: true };
    return { ok: true, who: { basic_user: username } };
  };

  const checkBearer = async (token: string): Promise<Outcome> => {
    let userId: string;
    try {
      ({ userId } = await opts.verifier.verify(token));
    } catch (err) {
      // A rejected token is a 401 with the board's challenge; anything else (a key server down) stays
      // what it is rather than pretending the caller is at fault, and is not held against the address.
      if (isAppError(err) && err.status === 401)
        return { ok: false, error: challenge(err.message), guess: true };
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)), guess: false };
    }
    updateContext({ userId });
    // A real user who is not an admin guessed nothing: refused, not counted.
    if (!admins.has(userId.toLowerCase()))
      return {
        ok: false,
        error: new PermissionDeniedError('Only platform admins can open the admin pages'),
        guess: false,
      };
    return { ok: true, who: { user_id: userId } };
  };

  return async (req, _res, next) => {
    // The board has state-changing routes (pause, clean, obliterate, add job) and a browser replays cached
    // basic credentials on cross-site requests: refuse those when the browser says they come from elsewhere.
    // Sec-Fetch-Site is set by the browser itself (a proxy rewriting Host does not disturb it), and clients
    // that are not browsers do not send it.
    const fetchSite = req.get('sec-fetch-site');
    if (!SAFE_METHODS.has(req.method) && (fetchSite === 'cross-site' || fetchSite === 'same-site'))
      return next(new PermissionDeniedError('Cross-site requests to the admin pages are refused'));

    // No credentials guess nothing (it is how a browser learns it must ask for them): not counted.
    const header = req.get('authorization')?.trim();
    if (!header) return next(challenge('Authentication required'));

    // Every attempt with credentials takes its place in the address's count before they are looked at, so
    // a locked-out address is refused even with the right ones (see AdminLoginThrottle).
    let attempt: LoginAttempt;
    try {
      attempt = await opts.throttle.reserve(req.ip);
    } catch (err) {
      opts.logger?.warn({ err }, 'admin login throttle unavailable (Redis); refusing admin requests');
      return next(new ServiceUnavailableError('Admin sign-in is unavailable; try again shortly'));
    }
    if (!attempt.allowed) {
      opts.logger?.warn({ path: req.originalUrl, ip: req.ip }, 'admin sign-in refused: too many failures');
      return next(new RateLimitedError(attempt.retryAfterSeconds));
    }

    const basic = BASIC.exec(header);
    const bearer = basic ? undefined : BEARER.exec(header);
    let outcome: Outcome;
    if (basic?.[1]) outcome = checkBasic(basic[1]);
    else if (bearer?.[1]) outcome = await checkBearer(bearer[1]);
    else
      outcome = {
        ok: false,
        error: challenge('Authorization must be "Basic <credentials>" or "Bearer <token>"'),
        guess: true,
      };

    if (outcome.ok || !outcome.guess) {
      try {
        await attempt.release();
      } catch (err) {
        // The place stays taken until the window ends: stricter, never looser.
        opts.logger?.warn({ err }, 'admin login throttle: a successful attempt was not given back');
      }
    }
    if (!outcome.ok) {
      if (outcome.guess)
        opts.logger?.warn({ path: req.originalUrl, method: req.method, ip: req.ip }, 'admin sign-in refused');
      return next(outcome.error);
    }
    audit(opts.logger, req.method, req.originalUrl, outcome.who);
    next();
  };
}

/** Reads are too frequent to log (the board polls); changes to queues are worth a trail. */
function audit(logger: Logger | undefined, method: string, path: string, who: Record<string, string>): void {
  if (!SAFE_METHODS.has(method)) logger?.info({ ...who, method, path }, 'admin action');
}
