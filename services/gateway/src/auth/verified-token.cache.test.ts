import { inspect } from 'node:util';
import { JwtVerifier } from './jwt-verifier';
import {
  AUDIENCE,
  JwksTestServer,
  SECRET,
  USER_ID,
  asymmetricJwt,
  baseJwt,
  expectRejected,
  key,
  newSigningKey,
  now,
} from './jwt-test.fixtures';
import { VerifiedTokenCache } from './verified-token.cache';

const rejected = (token: string, v: JwtVerifier) => expectRejected(v, token);

describe('JwtVerifier verified-token cache', () => {
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  beforeEach(() => {
    offsetMs = 0;
  });

  it('answers a repeated token from the cache without touching the JWKS endpoint', async () => {
    const server = await new JwksTestServer().start();
    try {
      const rsa = await newSigningKey('RS256', 'rsa-cache');
      server.keys = [rsa.jwk];
      // cacheMaxAge 0: every uncached JWKS verification refetches, so the request count shows cache misses.
      const v = new JwtVerifier({
        secret: SECRET,
        audience: AUDIENCE,
        supabaseUrl: server.url,
        jwksCacheMaxAgeMs: 0,
        jwksCooldownMs: 0,
      });
      const token = await asymmetricJwt(rsa, { sub: USER_ID, aud: AUDIENCE, iss: server.issuer });
      const first = await v.verify(token);
      expect(server.requests).toBe(1);
      const second = await v.verify(token);
      expect(second).toBe(first);
      expect(server.requests).toBe(1);
      await v.verify(await asymmetricJwt(rsa, { sub: USER_ID, aud: AUDIENCE, iss: server.issuer, n: 2 }));
      expect(server.requests).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it('makes a repeated token cost microseconds', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE });
    const token = await baseJwt().sign(key);
    await v.verify(token);
    const rounds = 5_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) await v.verify(token);
    const microsEach = Number(process.hrtime.bigint() - started) / 1_000 / rounds;
    expect(microsEach).toBeLessThan(100);
  });

  it('keeps an entry until the token expires and no longer (injected clock)', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 0, now: clock });
    const exp = now() + 60;
    const token = await baseJwt().setExpirationTime(exp).sign(key);
    const first = await v.verify(token);
    offsetMs = exp * 1000 - Date.now() - 1_000;
    expect(await v.verify(token)).toBe(first);
    offsetMs = exp * 1000 - Date.now() + 1_000;
    const err = await rejected(token, v);
    expect(err.message).toMatch(/expired/);
    expect(v.cachedTokenKeys()).toHaveLength(0);
  });

  it('does not serve a cached token past its exp even within the clock tolerance', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 30, now: clock });
    const exp = now() + 60;
    const token = await baseJwt().setExpirationTime(exp).sign(key);
    const first = await v.verify(token);
    offsetMs = exp * 1000 - Date.now() + 10_000;
    const again = await v.verify(token); // re-verified (tolerance), not from the cache, and not re-cached
    expect(again).not.toBe(first);
    expect(v.cachedTokenKeys()).toHaveLength(0);
  });

  it('stops accepting a cached token once it really expires (real clock)', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 0 });
    const exp = now() + 2;
    const token = await baseJwt().setExpirationTime(exp).sign(key);
    await v.verify(token);
    expect(v.cachedTokenKeys()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    await rejected(token, v);
  });

  it('stores SHA-256 digests, never the token', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE });
    const token = await baseJwt().sign(key);
    await v.verify(token);
    expect(v.cachedTokenKeys()).toEqual([VerifiedTokenCache.keyOf(token)]);
    const dump = inspect(v, { depth: Infinity, showHidden: true });
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.split('.')[2]);
  });

  it('does not cache failures, is bounded, and can be disabled', async () => {
    const small = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, cacheMax: 2 });
    await rejected(await baseJwt().setAudience('nope').sign(key), small);
    expect(small.cachedTokenKeys()).toHaveLength(0);
    const tokens = await Promise.all([1, 2, 3].map((n) => baseJwt({ n }).sign(key)));
    for (const t of tokens) await small.verify(t);
    expect(small.cachedTokenKeys()).toEqual(tokens.slice(1).map((t) => VerifiedTokenCache.keyOf(t)));

    const off = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, cacheMax: 0 });
    const token = await baseJwt().sign(key);
    expect(await off.verify(token)).not.toBe(await off.verify(token));
    expect(off.cachedTokenKeys()).toHaveLength(0);
  });

  it('hands out frozen results so one request cannot change what the next one sees', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE });
    const user = await v.verify(await baseJwt({ app_metadata: { roles: ['x'] } }).sign(key));
    expect(() => {
      (user.claims.app_metadata as { roles: string[] }).roles.push('admin');
    }).toThrow(TypeError);
  });
});
