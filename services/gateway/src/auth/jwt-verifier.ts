import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { z } from 'zod';
import { ServiceUnavailableError, UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import type { AppError } from '@raptorflow/core/errors/app-error';
import { JwksKeyStore } from './jwks-key.store';
import { VerifiedTokenCache } from './verified-token.cache';

export interface VerifiedUser {
  /** The token's `sub`, lower case. */
  userId: string;
  email?: string;
  claims: Record<string, unknown>;
}

export interface JwtVerifierOptions {
  /** SUPABASE_JWT_SECRET; it only ever verifies HS256. An empty secret turns HS256 off. */
  secret: string;
  audience: string;
  /** Expected `iss`; defaults to `${supabaseUrl}/auth/v1` when supabaseUrl is set, else unchecked. */
  issuer?: string;
  clockToleranceSec?: number;
  /** SUPABASE_URL; enables RS256/ES256 with keys from `${supabaseUrl}/auth/v1/.well-known/jwks.json`. */
  supabaseUrl?: string;
  /** Verified-token cache entries; 0 disables the cache. */
  cacheMax?: number;
  fetchTimeoutMs?: number;
  /** Minimum time between two JWKS fetches (an unknown kid refetches at most once per this). */
  jwksCooldownMs?: number;
  /** Age after which the JWKS is refetched before use. */
  jwksCacheMaxAgeMs?: number;
  /** Clock in epoch milliseconds for claim checks, cache expiry and JWKS timing; tests move it. */
  now?: () => number;
}

const HS_ALGS = ['HS256'];
const JWKS_ALGS = ['RS256', 'ES256'];
const DEFAULT_CACHE_MAX = 10_000;
const subject = z.uuid();

/**
 * Supabase access tokens: HS256 with the project's JWT secret and, when SUPABASE_URL is set, RS256/ES256 with
 * the project's published keys. The protected header's alg picks exactly one key source, and each source
 * has its own allow-list, so neither `none` nor an HS256 token "signed" with a public key (alg confusion)
 * can reach a key it was not meant for.
 */
export class JwtVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JwksKeyStore | undefined;
  private readonly claimChecks: Omit<JWTVerifyOptions, 'algorithms' | 'currentDate'>;
  private readonly cache: VerifiedTokenCache<VerifiedUser>;
  private readonly now: () => number;

  constructor(opts: JwtVerifierOptions) {
    this.now = opts.now ?? Date.now;
    this.secret = opts.secret.length > 0 ? new TextEncoder().encode(opts.secret) : undefined;
    const base = opts.supabaseUrl?.replace(/\/+$/, '');
    if (base) {
      this.jwks = new JwksKeyStore({
        url: `${base}/auth/v1/.well-known/jwks.json`,
        cooldownMs: opts.jwksCooldownMs,
        cacheMaxAgeMs: opts.jwksCacheMaxAgeMs,
        fetchTimeoutMs: opts.fetchTimeoutMs,
        now: this.now,
      });
    }
    const issuer = opts.issuer ?? (base ? `${base}/auth/v1` : undefined);
    this.claimChecks = {
      audience: opts.audience,
      ...(issuer ? { issuer } : {}),
      requiredClaims: ['exp', 'sub'],
      clockTolerance: opts.clockToleranceSec ?? 30,
    };
    this.cache = new VerifiedTokenCache(opts.cacheMax ?? DEFAULT_CACHE_MAX, this.now);
  }

  /** The user of a token verified before and not expired since, without a promise; undefined otherwise. */
  verifiedBefore(token: string): VerifiedUser | undefined {
    return this.cache.get(token);
  }

  async verify(token: string): Promise<VerifiedUser> {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      payload = await this.verifySignatureAndClaims(token);
    } catch (err) {
      throw toUnauthenticated(err);
    }
    if (!subject.safeParse(payload.sub).success)
      throw new UnauthenticatedError('Token subject (sub) must be a UUID');
    // Frozen because the same object is handed to every later request presenting this token.
    const user: VerifiedUser = Object.freeze({
      // Normalized here, once: every later use (rate-limit buckets, membership cache keys, audit rows, logs)
      // is a string comparison, and an upper-case `sub` must not make the same user someone new.
      userId: (payload.sub as string).toLowerCase(),
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      claims: deepFreeze({ ...payload }),
    });
    // requiredClaims guarantees a numeric exp; the entry must not outlive it, clock tolerance or not.
    this.cache.set(token, user, (payload.exp as number) * 1000);
    return user;
  }

  /** Digests under which verified tokens are cached (never the tokens); for diagnostics and tests. */
  cachedTokenKeys(): string[] {
    return this.cache.keys();
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    const { alg } = decodeProtectedHeader(token);
    const options = { ...this.claimChecks, currentDate: new Date(this.now()) };
    if (typeof alg === 'string' && HS_ALGS.includes(alg) && this.secret) {
      return (await jwtVerify(token, this.secret, { ...options, algorithms: HS_ALGS })).payload;
    }
    if (typeof alg === 'string' && JWKS_ALGS.includes(alg) && this.jwks) {
      const getKey: JWTVerifyGetKey = this.jwks.getKey;
      return (await jwtVerify(token, getKey, { ...options, algorithms: JWKS_ALGS })).payload;
    }
    throw new UnauthenticatedError(
      `Token algorithm ${describeAlg(alg)}is not allowed (accepted: ${this.acceptedAlgs().join(', ') || 'none'})`,
    );
  }

  private acceptedAlgs(): string[] {
    return [...(this.secret ? HS_ALGS : []), ...(this.jwks ? JWKS_ALGS : [])];
  }
}

/** Quotes the header's alg only when it looks like an algorithm name, so no attacker text reaches the logs. */
function describeAlg(alg: unknown): string {
  return typeof alg === 'string' && /^[A-Za-z0-9+-]{1,16}$/.test(alg) ? `"${alg}" ` : '';
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Says what was wrong with a token, never what the token was. */
function toUnauthenticated(err: unknown): AppError {
  if (err instanceof UnauthenticatedError || err instanceof ServiceUnavailableError) return err;
  if (err instanceof errors.JWTExpired) return new UnauthenticatedError('Token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new UnauthenticatedError('Token is not valid yet (nbf is in the future)');
    return new UnauthenticatedError(`Token claim "${err.claim}" is invalid: ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new UnauthenticatedError('Token algorithm is not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new UnauthenticatedError('Token signature is invalid');
  if (err instanceof errors.JWKSNoMatchingKey)
    return new UnauthenticatedError('Token signing key is unknown (no matching kid/alg in the JWKS)');
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return new UnauthenticatedError('Token signing key is ambiguous (several JWKS keys match; kid missing?)');
  if (err instanceof errors.JWKSInvalid) return new UnauthenticatedError('Token signing keys are invalid');
  if (
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JOSENotSupported
  )
    return new UnauthenticatedError('Token is malformed');
  return new UnauthenticatedError('Token could not be verified');
}
