// Tokens verified against a Supabase JWKS served over real HTTP: the forged and broken ones are all refused.
import { SignJWT, exportJWK, exportSPKI, importJWK } from 'jose';
import type { UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import { JwtVerifier } from './jwt-verifier';
import {
  AUDIENCE,
  JwksTestServer,
  SECRET,
  USER_ID,
  asymmetricJwt,
  b64url,
  expectRejected,
  key,
  newSigningKey,
  now,
} from './jwt-test.fixtures';
import type { SigningKey } from './jwt-test.fixtures';

const verifier = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, clockToleranceSec: 0 });

const rejected = (token: string, v: JwtVerifier = verifier): Promise<UnauthenticatedError> =>
  expectRejected(v, token);

describe('JwtVerifier with a Supabase JWKS (forged and broken tokens)', () => {
  const server = new JwksTestServer();
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey; // a key pair the JWKS does not publish
  let full: JwtVerifier;
  const OCT_SECRET = 'an-hmac-secret-someone-put-in-the-jwks-0123';

  beforeAll(async () => {
    await server.start();
    [rsa, ec, stranger] = await Promise.all([
      newSigningKey('RS256', 'rsa-1'),
      newSigningKey('ES256', 'ec-1'),
      newSigningKey('RS256', 'rsa-1'),
    ]);
    const oct = { kty: 'oct', kid: 'oct-1', alg: 'HS256', k: Buffer.from(OCT_SECRET).toString('base64url') };
    server.keys = [rsa.jwk, ec.jwk, oct];
    full = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, supabaseUrl: server.url });
  });
  afterAll(() => server.stop());

  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: USER_ID,
    aud: AUDIENCE,
    iss: server.issuer,
    ...extra,
  });
  const hsJwt = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    new SignJWT(claims(extra))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
      .setIssuedAt()
      .setExpirationTime('1h');
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const swapPayload = (token: string, payload: unknown) => {
    const [h, , s] = token.split('.');
    return `${h}.${b64url(payload)}.${s}`;
  };
  const swapHeader = (token: string, header: unknown) => {
    const [, p, s] = token.split('.');
    return `${b64url(header)}.${p}.${s}`;
  };

  it('accepts RS256 and ES256 tokens signed with published keys, and HS256 with the secret', async () => {
    for (const token of [
      await asymmetricJwt(rsa, claims()),
      await asymmetricJwt(ec, claims()),
      await hsJwt().sign(key),
    ]) {
      const user = await full.verify(token);
      expect(user).toMatchObject({ userId: USER_ID, claims: { iss: server.issuer } });
    }
  });

  const forged: [string, () => Promise<string>, RegExp][] = [
    [
      'alg none',
      async () => `${b64url({ alg: 'none' })}.${b64url(claims({ exp: now() + 3600 }))}.`,
      /algorithm/,
    ],
    ['alg None (case games)', async () => swapHeader(await hsJwt().sign(key), { alg: 'None' }), /algorithm/],
    ['wrong secret', () => hsJwt().sign(utf8('another-secret-0123456789abcdef0123')), /signature/],
    [
      'expired beyond the 30 s tolerance',
      () =>
        hsJwt()
          .setExpirationTime(now() - 45)
          .sign(key),
      /expired/,
    ],
    [
      'nbf beyond the 30 s tolerance',
      () =>
        hsJwt()
          .setNotBefore(now() + 45)
          .sign(key),
      /not valid yet/,
    ],
    ['wrong audience', () => hsJwt({ aud: 'service_role' }).sign(key), /aud/],
    ['wrong issuer', () => hsJwt({ iss: 'https://evil.example/auth/v1' }).sign(key), /iss/],
    ['missing issuer', () => hsJwt({ iss: undefined }).sign(key), /iss/],
    ['non-UUID subject', () => hsJwt({ sub: 'admin' }).sign(key), /sub/],
    [
      'HS256 payload tampered',
      async () => swapPayload(await hsJwt().sign(key), claims({ role: 'service_role', exp: now() + 60 })),
      /signature/,
    ],
    [
      'RS256 payload tampered',
      async () =>
        swapPayload(await asymmetricJwt(rsa, claims()), claims({ role: 'service_role', exp: now() + 60 })),
      /signature/,
    ],
    [
      'HS256 keyed with the RSA public key as PEM',
      async () => hsJwt({}, { kid: rsa.kid }).sign(utf8(await exportSPKI(rsa.publicKey))),
      /signature/,
    ],
    [
      'HS256 keyed with the RSA public key as JWK JSON',
      () => hsJwt({}, { kid: rsa.kid }).sign(utf8(JSON.stringify(rsa.jwk))),
      /signature/,
    ],
    [
      'HS256 keyed with the EC public key as PEM',
      async () => hsJwt({}, { kid: ec.kid }).sign(utf8(await exportSPKI(ec.publicKey))),
      /signature/,
    ],
    [
      'HS256 keyed with the EC public key as JWK JSON',
      () => hsJwt({}, { kid: ec.kid }).sign(utf8(JSON.stringify(ec.jwk))),
      /signature/,
    ],
    [
      'HS256 keyed with an oct key published in the JWKS',
      () => hsJwt({}, { kid: 'oct-1' }).sign(utf8(OCT_SECRET)),
      /signature/,
    ],
    [
      'RS256 with a kid not in the JWKS',
      () => asymmetricJwt(stranger, claims(), { kid: 'rsa-unknown' }),
      /signing key is unknown/,
    ],
    [
      'RS256 with a published kid but signed by another key',
      () => asymmetricJwt(stranger, claims()),
      /signature/,
    ],
    [
      'RS256 naming the oct key',
      () => asymmetricJwt(stranger, claims(), { kid: 'oct-1' }),
      /signing key is unknown/,
    ],
    [
      'ES256 header over an RSA kid',
      async () => swapHeader(await asymmetricJwt(rsa, claims()), { alg: 'ES256', kid: rsa.kid }),
      /signing key is unknown/,
    ],
    [
      'RS256 header over an EC signature',
      async () => swapHeader(await asymmetricJwt(ec, claims()), { alg: 'RS256', kid: ec.kid }),
      /signing key is unknown/,
    ],
    [
      'RS512 signed with a published key',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'RS512', kid: rsa.kid })
          .setExpirationTime('1h')
          .sign(await importJWK(await exportJWK(rsa.privateKey), 'RS512')),
      /algorithm "RS512" is not allowed/,
    ],
    [
      'PS256 signed with a published key',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'PS256', kid: rsa.kid })
          .setExpirationTime('1h')
          .sign(await importJWK(await exportJWK(rsa.privateKey), 'PS256')),
      /algorithm/,
    ],
    [
      'HS512 signed with the secret',
      () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1h').sign(key),
      /algorithm/,
    ],
    ['RS256 expired', () => asymmetricJwt(rsa, claims({ exp: now() - 45 })), /expired/],
    ['RS256 wrong audience', () => asymmetricJwt(rsa, claims({ aud: 'other' })), /aud/],
    ['RS256 wrong issuer', () => asymmetricJwt(rsa, claims({ iss: 'https://evil.example/auth/v1' })), /iss/],
    ['RS256 non-UUID subject', () => asymmetricJwt(ec, claims({ sub: 'service' })), /sub/],
    [
      'RS256 without exp',
      () => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).sign(rsa.privateKey),
      /exp/,
    ],
    [
      'embedded attacker jwk',
      async () => asymmetricJwt(stranger, claims(), { kid: 'mine', jwk: stranger.jwk }),
      /signing key is unknown/,
    ],
  ];

  it.each(forged)('rejects %s with a 401 saying so', async (_label, make, message) => {
    const token = await make();
    const err = await rejected(token, full);
    expect(err.message).toMatch(message);
  });

  it('never consults the JWKS for an HS256 token, forged or not', async () => {
    const isolated = new JwksTestServer();
    await isolated.start();
    try {
      isolated.keys = [rsa.jwk];
      const v = new JwtVerifier({ secret: SECRET, audience: AUDIENCE, supabaseUrl: isolated.url });
      const good = await hsJwt({ iss: isolated.issuer }, { kid: rsa.kid }).sign(key);
      await expect(v.verify(good)).resolves.toMatchObject({ userId: USER_ID });
      await rejected(await hsJwt({}, { kid: rsa.kid }).sign(utf8(await exportSPKI(rsa.publicKey))), v);
      expect(isolated.requests).toBe(0);
    } finally {
      await isolated.stop();
    }
  });
});
