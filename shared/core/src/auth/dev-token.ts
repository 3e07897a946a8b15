import { createHmac } from 'node:crypto';

/**
 * Development access tokens, shaped like Supabase's: `npm start` and `npm run token` print them, the gateway's
 * `POST /v1/dev/session` hands one to the console on a development machine. Signed here with node:crypto (no
 * JWT library in core); the gateway verifies them like any other HS256 token (services/gateway/src/auth).
 */

/**
 * The one user the console's development sign-in is: fixed, so the workspaces made while developing are
 * still there after a restart or a new token.
 */
export const DEV_USER_ID = '00000000-0000-4000-8000-00000000de71';

export const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

export interface DevTokenOptions {
  userId: string;
  secret: string;
  audience: string;
  ttlSeconds?: number;
  email?: string;
  /** `iss`: the gateway requires `${SUPABASE_URL}/auth/v1` once SUPABASE_URL is set. Omitted otherwise. */
  issuer?: string;
  /** Epoch milliseconds; tests pin it. */
  now?: number;
}

export interface DevToken {
  token: string;
  /** `exp`, as a Date. */
  expiresAt: Date;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** An HS256 access token and its expiry. The claims keep jose's order: role, email, iss, sub, aud, iat, exp. */
export function signDevToken(opts: DevTokenOptions): DevToken {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const exp = iat + (opts.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      role: 'authenticated',
      ...(opts.email ? { email: opts.email } : {}),
      ...(opts.issuer ? { iss: opts.issuer } : {}),
      sub: opts.userId,
      aud: opts.audience,
      iat,
      exp,
    }),
  );
  const signature = createHmac('sha256', opts.secret).update(`${header}.${payload}`).digest('base64url');
  return { token: `${header}.${payload}.${signature}`, expiresAt: new Date(exp * 1000) };
}

/** The token alone, as the scripts and test factories use it. */
export async function mintDevToken(opts: DevTokenOptions): Promise<string> {
  return signDevToken(opts).token;
}
