import { SignJWT } from 'jose';

export interface DevTokenOptions {
  userId: string;
  secret: string;
  audience: string;
  ttlSeconds?: number;
  email?: string;
}

/** A Supabase-shaped HS256 access token, for development and tests only. */
export async function mintDevToken(opts: DevTokenOptions): Promise<string> {
  return new SignJWT({ role: 'authenticated', ...(opts.email ? { email: opts.email } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.userId)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 12 * 3600))
    .sign(new TextEncoder().encode(opts.secret));
}
