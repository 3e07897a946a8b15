// Test support only (imported by *.test.ts, never by the gateway): token builders, the 401 assertion, and a
// real HTTP JWKS endpoint so the verifier is exercised through fetch, status codes and timeouts as in production.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { ServiceUnavailableError, UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import type { JwtVerifier } from './jwt-verifier';

export const SECRET = 'test-supabase-jwt-secret-0123456789abcdef';
export const AUDIENCE = 'authenticated';
export const USER_ID = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
export const key = new TextEncoder().encode(SECRET);

export const now = () => Math.floor(Date.now() / 1000);

export function baseJwt(claims: Record<string, unknown> = {}, alg = 'HS256'): SignJWT {
  return new SignJWT({ email: 'ada@example.com', role: 'authenticated', ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(USER_ID)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h');
}

export const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Verifies, expecting a 401 that does not quote the token; returns the error. */
export async function expectRejected(v: JwtVerifier, token: string): Promise<UnauthenticatedError> {
  let caught: unknown;
  try {
    await v.verify(token);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UnauthenticatedError);
  const err = caught as UnauthenticatedError;
  expect(err.status).toBe(401);
  expect(err.code).toBe('unauthenticated');
  // says what was wrong, never what the token was (not even one of its segments)
  if (token.length > 0) expect(err.message).not.toContain(token);
  for (const part of token.split('.')) if (part.length > 0) expect(err.message).not.toContain(part);
  if (token.length > 0) expect(JSON.stringify(err.details ?? null)).not.toContain(token);
  return err;
}

export const JWKS_PATH = '/auth/v1/.well-known/jwks.json';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as published (with kid, alg, use). */
  jwk: JWK;
}

export async function newSigningKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

export type JwksMode = 'ok' | 'error' | 'hang' | 'redirect';

export class JwksTestServer {
  /** Requests for the JWKS document so far. */
  requests = 0;
  /** Exactly what the next request gets; tests replace it to rotate keys. */
  keys: JWK[] = [];
  mode: JwksMode = 'ok';
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** What the verifier takes as supabaseUrl. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  get issuer(): string {
    return `${this.url}/auth/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    this.requests += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'error') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
      return;
    }
    if (this.mode === 'redirect') {
      res.writeHead(302, { location: `${this.url}/elsewhere.json` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
  }
}

/** A Supabase-shaped access token signed with one of the server's keys. */
export function asymmetricJwt(
  key: SigningKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT({ role: 'authenticated', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .setIssuedAt();
  return (claims.exp === undefined ? jwt.setExpirationTime('1h') : jwt).sign(key.privateKey);
}

export async function expectUnavailable(v: JwtVerifier, token: string): Promise<ServiceUnavailableError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServiceUnavailableError);
  expect((err as ServiceUnavailableError).status).toBe(503);
  return err as ServiceUnavailableError;
}
