import { errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { UnauthenticatedError } from '@raptorflow/shared';

export interface VerifiedUser {
  userId: string;
  email?: string;
  claims: Record<string, unknown>;
}

export interface JwtVerifierOptions {
  secret: string;
  audience: string;
  issuer?: string;
  clockToleranceSec?: number;
}

const subject = z.uuid();

/**
 * HS256 tokens signed with the Supabase JWT secret. Only HS256 is accepted for a shared secret, so a token
 * claiming `none` or an asymmetric algorithm is refused before any signature maths.
 */
export class JwtVerifier {
  private readonly key: Uint8Array;

  constructor(private readonly opts: JwtVerifierOptions) {
    this.key = new TextEncoder().encode(opts.secret);
  }

  async verify(token: string): Promise<VerifiedUser> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        audience: this.opts.audience,
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.opts.clockToleranceSec ?? 30,
      });
      if (!subject.safeParse(payload.sub).success)
        throw new UnauthenticatedError('Token subject (sub) must be a UUID');
      return {
        userId: payload.sub as string,
        ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
        claims: payload,
      };
    } catch (err) {
      throw toUnauthenticated(err);
    }
  }
}

/** Says what was wrong with a token, never what the token was. */
function toUnauthenticated(err: unknown): UnauthenticatedError {
  if (err instanceof UnauthenticatedError) return err;
  if (err instanceof errors.JWTExpired) return new UnauthenticatedError('Token has expired');
  if (err instanceof errors.JWTClaimValidationFailed)
    return new UnauthenticatedError(`Token claim "${err.claim}" is invalid: ${err.reason}`);
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new UnauthenticatedError('Token algorithm is not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new UnauthenticatedError('Token signature is invalid');
  if (
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JOSENotSupported
  )
    return new UnauthenticatedError('Token is malformed');
  return new UnauthenticatedError('Token could not be verified');
}
