import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError, PermissionDeniedError, isAppError, updateContext } from '@raptorflow/shared';
import type { Logger } from '@raptorflow/shared';

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

export function requireAdmin(opts: AdminAuthOptions): RequestHandler {
  const { username, password } = opts.basic;
  const basicEnabled = username !== undefined && password !== undefined;
  // ADMIN_USER_IDS is typed by people; JWT subjects are UUIDs whose case may differ.
  const admins = new Set(opts.adminUserIds.map((id) => id.toLowerCase()));
  const challenge = (message: string) => new AdminUnauthenticatedError(message, opts.realm);

  return async (req, _res, next) => {
    // The board has state-changing routes (pause, clean, obliterate, add job) and a browser replays cached
    // basic credentials on cross-site requests: refuse those when the browser says they come from elsewhere.
    // Sec-Fetch-Site is set by the browser itself (a proxy rewriting Host does not disturb it), and clients
    // that are not browsers do not send it.
    const fetchSite = req.get('sec-fetch-site');
    if (!SAFE_METHODS.has(req.method) && (fetchSite === 'cross-site' || fetchSite === 'same-site'))
      return next(new PermissionDeniedError('Cross-site requests to the admin pages are refused'));

    const header = req.get('authorization')?.trim();
    if (!header) return next(challenge('Authentication required'));

    const basic = BASIC.exec(header);
    if (basic?.[1]) {
      const creds = decodeBasic(basic[1]);
      // Compare both halves even when the first is wrong, so the time taken says nothing about which one was.
      const ok =
        basicEnabled &&
        creds !== undefined &&
        sameSecret(creds.username, username) &&
        sameSecret(creds.password, password);
      if (!ok) {
        opts.logger?.warn({ path: req.originalUrl, method: req.method }, 'admin basic auth refused');
        return next(challenge('Invalid user name or password'));
      }
      audit(opts.logger, req.method, req.originalUrl, { basic_user: username });
      return next();
    }

    const bearer = BEARER.exec(header);
    if (bearer?.[1]) {
      let userId: string;
      try {
        ({ userId } = await opts.verifier.verify(bearer[1]));
      } catch (err) {
        // A rejected token is a 401 with the board's challenge; anything else (a key server down) stays
        // what it is rather than pretending the caller is at fault.
        if (isAppError(err) && err.status === 401) return next(challenge(err.message));
        return next(err);
      }
      updateContext({ userId });
      if (!admins.has(userId.toLowerCase()))
        return next(new PermissionDeniedError('Only platform admins can open the admin pages'));
      audit(opts.logger, req.method, req.originalUrl, { user_id: userId });
      return next();
    }

    next(challenge('Authorization must be "Basic <credentials>" or "Bearer <token>"'));
  };
}

/** Reads are too frequent to log (the board polls); changes to queues are worth a trail. */
function audit(logger: Logger | undefined, method: string, path: string, who: Record<string, string>): void {
  if (!SAFE_METHODS.has(method)) logger?.info({ ...who, method, path }, 'admin action');
}
