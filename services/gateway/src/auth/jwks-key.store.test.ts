import { JwtVerifier } from './jwt-verifier';
import type { JwtVerifierOptions } from './jwt-verifier';
import {
  AUDIENCE,
  JwksTestServer,
  SECRET,
  USER_ID,
  asymmetricJwt,
  expectRejected,
  expectUnavailable,
  newSigningKey,
} from './jwt-test.fixtures';
import type { SigningKey } from './jwt-test.fixtures';

const COOLDOWN_MS = 10_000;

describe('JWKS keys fetched over HTTP (rotation, rate limiting, failures)', () => {
  let server: JwksTestServer;
  let k1: SigningKey;
  let k2: SigningKey;
  let e1: SigningKey;
  let offsetMs = 0;
  // Moving this clock stands in for waiting out cooldowns; it also drives jose's claim checks.
  const clock = () => Date.now() + offsetMs;

  beforeAll(async () => {
    [k1, k2, e1] = await Promise.all([
      newSigningKey('RS256', 'key-1'),
      newSigningKey('RS256', 'key-2'),
      newSigningKey('ES256', 'ec-1'),
    ]);
  });
  beforeEach(async () => {
    offsetMs = 0;
    server = await new JwksTestServer().start();
    server.keys = [k1.jwk, e1.jwk];
  });
  afterEach(() => server.stop());

  const verifier = (extra: Partial<JwtVerifierOptions> = {}) =>
    new JwtVerifier({
      secret: SECRET,
      audience: AUDIENCE,
      supabaseUrl: server.url,
      jwksCooldownMs: COOLDOWN_MS,
      now: clock,
      ...extra,
    });
  const tokenFor = (k: SigningKey, header: Record<string, unknown> = {}) =>
    asymmetricJwt(k, { sub: USER_ID, aud: AUDIENCE, iss: server.issuer, jti: crypto.randomUUID() }, header);

  it('fetches the key set once and reuses it for other tokens', async () => {
    const v = verifier();
    await expect(v.verify(await tokenFor(k1))).resolves.toMatchObject({ userId: USER_ID });
    await expect(v.verify(await tokenFor(e1))).resolves.toMatchObject({ userId: USER_ID });
    await expect(v.verify(await tokenFor(k1))).resolves.toMatchObject({ userId: USER_ID });
    expect(server.requests).toBe(1);
  });

  it('shares one fetch between concurrent first requests', async () => {
    const v = verifier();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => tokenFor(k1)));
    const users = await Promise.all(tokens.map((t) => v.verify(t)));
    expect(users.every((u) => u.userId === USER_ID)).toBe(true);
    expect(server.requests).toBe(1);
  });

  it('picks up a rotated key after exactly one refetch, and not before the cooldown', async () => {
    const v = verifier();
    await v.verify(await tokenFor(k1));
    expect(server.requests).toBe(1);

    server.keys = [k2.jwk, e1.jwk]; // rotation: key-1 retired, key-2 published
    const rotated = await tokenFor(k2);
    const early = await expectRejected(v, rotated);
    expect(early.message).toMatch(/signing key is unknown/);
    expect(server.requests).toBe(1); // within the cooldown of the first fetch: no refetch

    offsetMs = COOLDOWN_MS + 1;
    await expect(v.verify(rotated)).resolves.toMatchObject({ userId: USER_ID });
    expect(server.requests).toBe(2);
    await expectRejected(v, await tokenFor(k1)); // the retired key no longer verifies new tokens
    expect(server.requests).toBe(2);
  });

  it('lets a burst of unknown kids cause at most one fetch per cooldown', async () => {
    const v = verifier();
    await v.verify(await tokenFor(k1));
    offsetMs = COOLDOWN_MS + 1;
    const burst = await Promise.all(Array.from({ length: 25 }, (_, i) => tokenFor(k2, { kid: `nope-${i}` })));
    const valid = await tokenFor(k1);
    const results = await Promise.allSettled([...burst, valid].map((t) => v.verify(t)));
    expect(results.slice(0, -1).every((r) => r.status === 'rejected')).toBe(true);
    expect(results.at(-1)?.status).toBe('fulfilled');
    expect(server.requests).toBe(2);

    for (const t of burst) await expectRejected(v, t);
    offsetMs += COOLDOWN_MS - 1_000;
    await Promise.allSettled(burst.map((t) => v.verify(t)));
    expect(server.requests).toBe(2);
  });

  it('refreshes a stale key set before use and drops retired keys', async () => {
    const v = verifier({ jwksCacheMaxAgeMs: 60_000 });
    await v.verify(await tokenFor(k1));
    server.keys = [k2.jwk];
    offsetMs = 60_001;
    await expectRejected(v, await tokenFor(k1));
    await expect(v.verify(await tokenFor(k2))).resolves.toMatchObject({ userId: USER_ID });
    expect(server.requests).toBe(2);
  });

  it('keeps using the last good key set when a refresh fails', async () => {
    const v = verifier({ jwksCacheMaxAgeMs: 60_000 });
    await v.verify(await tokenFor(k1));
    server.mode = 'error';
    offsetMs = 60_001;
    await expect(v.verify(await tokenFor(k1))).resolves.toMatchObject({ userId: USER_ID });
    expect(server.requests).toBe(2);
  });

  it('answers 503 while the endpoint is down, retries it after a short backoff, then recovers', async () => {
    const v = verifier();
    server.mode = 'error';
    const token = await tokenFor(k1);
    const err = await expectUnavailable(v, token);
    expect(err.message).toMatch(/signing keys are unavailable/);
    await expectUnavailable(v, token);
    expect(server.requests).toBe(1); // no fetch storm against a failing endpoint

    server.mode = 'ok';
    offsetMs = 5_001; // failures back off for min(cooldown, 5 s)
    await expect(v.verify(token)).resolves.toMatchObject({ userId: USER_ID });
    expect(server.requests).toBe(2);
  });

  it('gives up on a hanging endpoint after fetchTimeoutMs', async () => {
    const v = verifier({ fetchTimeoutMs: 200 });
    server.mode = 'hang';
    const started = Date.now();
    const err = await expectUnavailable(v, await tokenFor(k1));
    expect(err.message).toMatch(/unavailable/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('does not follow redirects from the JWKS endpoint', async () => {
    const v = verifier();
    server.mode = 'redirect';
    await expectUnavailable(v, await tokenFor(k1)); // a redirect is a broken endpoint, not a bad token
    expect(server.requests).toBe(1);
  });

  it('ignores private, symmetric and foreign-algorithm members of the key set', async () => {
    const { exportJWK } = await import('jose');
    const withPrivate = { ...(await exportJWK(k1.privateKey)), kid: k1.kid, alg: 'RS256' };
    server.keys = [withPrivate, { ...k2.jwk, alg: 'RS512' }, { kty: 'oct', kid: 'oct', k: 'c2VjcmV0' }];
    const v = verifier();
    for (const t of [await tokenFor(k1), await tokenFor(k2), await tokenFor(k1, { kid: 'oct' })]) {
      const err = await expectRejected(v, t);
      expect(err.message).toMatch(/signing key is unknown/);
    }
  });

  it('rejects RS256/ES256 outright when no Supabase URL is configured', async () => {
    const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE });
    const err = await expectRejected(v, await tokenFor(k1));
    expect(err.message).toMatch(/algorithm "RS256" is not allowed \(accepted: HS256\)/);
    expect(server.requests).toBe(0);
  });
});
