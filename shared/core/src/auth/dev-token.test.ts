import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { DEV_USER_ID, mintDevToken, signDevToken } from './dev-token';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('development tokens', () => {
  const opts = { userId: DEV_USER_ID, secret: 's'.repeat(40), audience: 'authenticated' };

  it('are HS256 JWTs with the claims npm start has always printed, in the same order', () => {
    const now = Date.UTC(2026, 10, 30, 12, 0, 0);
    const { token, expiresAt } = signDevToken({ ...opts, now, email: 'dev@example.com' });
    const [header, payload, signature] = token.split('.');
    expect(decode(header!)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decode(payload!);
    expect(Object.keys(claims)).toEqual(['role', 'email', 'sub', 'aud', 'iat', 'exp']);
    expect(claims).toEqual({
      role: 'authenticated',
      email: 'dev@example.com',
      sub: DEV_USER_ID,
      aud: 'authenticated',
      iat: now / 1000,
      exp: now / 1000 + 12 * 3600,
    });
    expect(expiresAt.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    const expected = createHmac('sha256', opts.secret).update(`${header}.${payload}`).digest('base64url');
    expect(signature).toBe(expected);
  });

  it('carry an issuer only when asked (the gateway wants one once SUPABASE_URL is set)', async () => {
    const plain = decode((await mintDevToken(opts)).split('.')[1]!);
    expect(plain).not.toHaveProperty('iss');
    const { token } = signDevToken({ ...opts, issuer: 'https://proj.supabase.co/auth/v1', ttlSeconds: 60 });
    const claims = decode(token.split('.')[1]!);
    expect(claims.iss).toBe('https://proj.supabase.co/auth/v1');
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('name a fixed development user that the gateway accepts as a subject', () => {
    expect(z.uuid().safeParse(DEV_USER_ID).success).toBe(true);
  });
});
