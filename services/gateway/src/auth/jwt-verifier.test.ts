import { SignJWT, generateKeyPair } from 'jose';
import type { UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import { JwtVerifier } from './jwt-verifier';
import { AUDIENCE, SECRET, USER_ID, b64url, baseJwt, expectRejected, key, now } from './jwt-test.fixtures';

const verifier = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 0 });

const rejected = (token: string, v: JwtVerifier = verifier): Promise<UnauthenticatedError> =>
  expectRejected(v, token);

describe('JwtVerifier', () => {
  it('verifies a valid HS256 token and returns the user id, email and claims', async () => {
    const token = await baseJwt().sign(key);
    const user = await verifier.verify(token);
    expect(user.userId).toBe(USER_ID);
    expect(user.email).toBe('ada@example.com');
    expect(user.claims.aud).toBe(AUDIENCE);
    expect(user.claims.role).toBe('authenticated');
  });

  it('returns the user id in lower case, whatever case the sub was written in', async () => {
    const token = await baseJwt().setSubject(USER_ID.toUpperCase()).sign(key);
    const user = await verifier.verify(token);
    expect(user.userId).toBe(USER_ID.toLowerCase());
    // The claims stay as signed.
    expect(user.claims.sub).toBe(USER_ID.toUpperCase());
  });

  it('accepts an audience list that contains the expected audience', async () => {
    const token = await baseJwt().setAudience(['other', AUDIENCE]).sign(key);
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: USER_ID });
  });

  it('rejects an expired token and says so', async () => {
    const token = await baseJwt()
      .setIssuedAt(now() - 7200)
      .setExpirationTime(now() - 60)
      .sign(key);
    const err = await rejected(token);
    expect(err.message).toMatch(/expire/i);
  });

  it('honours the clock tolerance for a just-expired token', async () => {
    const token = await baseJwt()
      .setExpirationTime(now() - 5)
      .sign(key);
    const tolerant = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 30 });
    await expect(tolerant.verify(token)).resolves.toMatchObject({ userId: USER_ID });
    await rejected(token);
  });

  it('rejects a wrong audience', async () => {
    const token = await baseJwt().setAudience('service_role').sign(key);
    const err = await rejected(token);
    expect(err.message).toMatch(/aud/);
  });

  it('rejects a token without an audience', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(USER_ID)
      .setExpirationTime('1h')
      .sign(key);
    await rejected(token);
  });

  it('rejects a token without exp', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(USER_ID)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .sign(key);
    const err = await rejected(token);
    expect(err.message).toMatch(/exp/);
  });

  it('rejects a token without sub', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(key);
    const err = await rejected(token);
    expect(err.message).toMatch(/sub/);
  });

  it.each(['not-a-uuid', 'service-account', '3f2a1b4c5d6e4f708a9b0c1d2e3f4a5b', `${USER_ID}x`])(
    'rejects sub=%p (not a UUID)',
    async (sub) => {
      const token = await baseJwt().setSubject(sub).sign(key);
      const err = await rejected(token);
      expect(err.message).toMatch(/sub/);
    },
  );

  it('rejects a token signed with another secret', async () => {
    const token = await baseJwt().sign(new TextEncoder().encode('some-other-secret-0123456789abcdefgh'));
    const err = await rejected(token);
    expect(err.message).toMatch(/signature/i);
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [header, , sig] = (await baseJwt().sign(key)).split('.');
    const forged = `${header}.${b64url({ sub: USER_ID, aud: AUDIENCE, exp: now() + 3600, role: 'service_role' })}.${sig}`;
    await rejected(forged);
  });

  it('rejects an unsecured alg:none token', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
      sub: USER_ID,
      aud: AUDIENCE,
      iat: now(),
      exp: now() + 3600,
    })}.`;
    await rejected(token);
  });

  it('rejects alg:none even with a signature segment copied from a real token', async () => {
    const [, , sig] = (await baseJwt().sign(key)).split('.');
    const token = `${b64url({ alg: 'none' })}.${b64url({ sub: USER_ID, aud: AUDIENCE, exp: now() + 3600 })}.${sig}`;
    await rejected(token);
  });

  it('rejects an RS256-signed token', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(USER_ID)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
    const err = await rejected(token);
    expect(err.message).toMatch(/algorithm/i);
  });

  it('rejects an HS512 token signed with the right secret (algorithm allow-list)', async () => {
    const token = await baseJwt({}, 'HS512').sign(key);
    await rejected(token);
  });

  it('checks the issuer when one is configured', async () => {
    const issuer = 'https://project.supabase.co/auth/v1';
    const strict = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, issuer });
    await expect(strict.verify(await baseJwt().setIssuer(issuer).sign(key))).resolves.toMatchObject({
      userId: USER_ID,
    });
    await rejected(await baseJwt().setIssuer('https://evil.example/auth/v1').sign(key), strict);
    await rejected(await baseJwt().sign(key), strict);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not-a-token'],
    ['two segments', 'abc.def'],
    ['bad base64 json', 'eyJhbGciOiJIUzI1NiJ9.!!!.abc'],
  ])('rejects a malformed token (%s)', async (_label, token) => {
    await rejected(token);
  });
});
