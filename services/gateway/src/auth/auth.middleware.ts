import type { Request, RequestHandler } from 'express';
import { UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import { setContextUser } from '@raptorflow/core/context/request-context';
import type { JwtVerifier, VerifiedUser } from './jwt-verifier';

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/;

export function requireAuth(verifier: JwtVerifier): RequestHandler {
  const signIn = (req: Request, user: VerifiedUser): void => {
    req.auth = user;
    setContextUser(user.userId);
  };
  // Not an async function: a token verified before (nearly every request) signs in without a promise.
  return (req, _res, next) => {
    const header = req.headers.authorization; // what req.get('authorization') reads
    if (!header)
      return next(new UnauthenticatedError('Missing Authorization header (expected "Bearer <token>")'));
    const trimmed = header.trim();
    // A token verified before passed the format check then: look it up before running the pattern over
    // every character again (the check cost as much as the rest of this middleware). The slice is what the
    // pattern would capture: JavaScript's trim and \s remove the same characters.
    if (trimmed.startsWith('Bearer ')) {
      const known = verifier.verifiedBefore(trimmed.slice(7).trimStart());
      if (known) {
        signIn(req, known);
        return next();
      }
    }
    const match = BEARER.exec(trimmed);
    if (!match?.[1]) return next(new UnauthenticatedError('Authorization header must be "Bearer <token>"'));
    return verifier.verify(match[1]).then(
      (user) => {
        signIn(req, user);
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
