import { createLocalJWKSet, errors } from 'jose';
import type { FlattenedJWSInput, JSONWebKeySet, JWK, JWTHeaderParameters, JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError } from '@raptorflow/core/errors/app-error';

export interface JwksKeyStoreOptions {
  /** The JWKS document, e.g. `${supabaseUrl}/auth/v1/.well-known/jwks.json`. */
  url: string;
  /** Minimum time between two fetches, whatever asks for them (unknown kids, staleness, failures). */
  cooldownMs?: number;
  /** Age after which the key set is refetched before use; the old set stays in use if that fetch fails. */
  cacheMaxAgeMs?: number;
  fetchTimeoutMs?: number;
  now?: () => number;
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/** Key types a JWKS may contribute. An `oct` (shared-secret) member would let a JWKS publish HMAC keys. */
const ASYMMETRIC_KTY = new Set(['RSA', 'EC']);
const JWKS_ALGS = new Set(['RS256', 'ES256']);
/** After a failed fetch, retry sooner than the cooldown so a blip at start-up does not lock users out for long. */
const FAILURE_RETRY_MS = 5_000;

/**
 * Public signing keys from a remote JWKS, fetched over HTTP and cached.
 *
 * Hand-rolled around jose's createLocalJWKSet instead of createRemoteJWKSet because the latter only starts
 * its cooldown after a *successful* fetch: while the endpoint is down every unknown-kid token would trigger
 * another fetch, and a stale set is dropped the moment its refresh fails. Here every attempt counts against
 * the cooldown, concurrent callers share one in-flight fetch, and the last good set outlives failed refreshes.
 */
export class JwksKeyStore {
  private readonly url: string;
  private readonly cooldownMs: number;
  private readonly cacheMaxAgeMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly now: () => number;

  private keys: LocalKeySet | undefined;
  private fetchedAtMs = Number.NEGATIVE_INFINITY;
  private attemptedAtMs = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private inFlight: Promise<void> | undefined;

  constructor(opts: JwksKeyStoreOptions) {
    this.url = new URL(opts.url).href;
    this.cooldownMs = nonNegative(opts.cooldownMs, 30_000, 'cooldownMs');
    this.cacheMaxAgeMs = nonNegative(opts.cacheMaxAgeMs, 600_000, 'cacheMaxAgeMs');
    this.fetchTimeoutMs = nonNegative(opts.fetchTimeoutMs, 5_000, 'fetchTimeoutMs');
    this.now = opts.now ?? Date.now;
  }

  /** For jose's jwtVerify; an arrow so it can be passed without binding. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys || this.now() >= this.fetchedAtMs + this.cacheMaxAgeMs) await this.refresh();
    // The token may be fine; we cannot tell. That is a dependency outage (503), not a bad credential (401).
    if (!this.keys)
      throw new ServiceUnavailableError(
        'Token signing keys are unavailable (JWKS fetch failed); try again shortly',
      );
    try {
      return await this.lookup(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A kid we have not seen may be a freshly rotated key: refetch once, unless that was just tried.
      if (!this.inFlight && this.coolingDown()) throw err;
      await this.refresh();
      return this.lookup(header, token);
    }
  };

  private async lookup(header: JWTHeaderParameters, token: FlattenedJWSInput) {
    if (!this.keys) throw new errors.JWKSNoMatchingKey();
    return this.keys(header, token);
  }

  private coolingDown(): boolean {
    const wait = this.lastAttemptFailed ? Math.min(this.cooldownMs, FAILURE_RETRY_MS) : this.cooldownMs;
    return this.now() < this.attemptedAtMs + wait;
  }

  /** Joins the fetch in flight, else starts one unless cooling down. Never throws: callers look at `keys`. */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.coolingDown()) return Promise.resolve();
    this.attemptedAtMs = this.now();
    const attempt = this.fetchKeySet().then(
      (keys) => {
        this.keys = keys;
        this.fetchedAtMs = this.now();
        this.lastAttemptFailed = false;
      },
      () => {
        this.lastAttemptFailed = true;
      },
    );
    this.inFlight = attempt.finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeySet(): Promise<LocalKeySet> {
    const response = await fetch(this.url, {
      headers: { accept: 'application/json, application/jwk-set+json' },
      // A redirect would let whoever controls the target decide which keys we trust.
      redirect: 'manual',
      signal: AbortSignal.timeout(this.fetchTimeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`JWKS endpoint answered ${response.status}`);
    }
    const body: unknown = await response.json();
    return createLocalJWKSet(signingKeysOnly(body));
  }
}

/**
 * Keeps the public RSA/EC members usable with RS256/ES256. jose's own matching already ties alg to kty;
 * this drops what should never be in a JWKS at all (secrets, private halves, other algorithms) up front.
 */
function signingKeysOnly(body: unknown): JSONWebKeySet {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys))
    throw new errors.JWKSInvalid('JSON Web Key Set malformed');
  const keys = ((body as { keys: unknown[] }).keys as Partial<JWK>[]).filter(
    (k) =>
      typeof k === 'object' &&
      k !== null &&
      typeof k.kty === 'string' &&
      ASYMMETRIC_KTY.has(k.kty) &&
      k.d === undefined &&
      (k.alg === undefined || JWKS_ALGS.has(k.alg)),
  );
  return { keys: keys as JWK[] };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}
