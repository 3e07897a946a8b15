import type { RequestHandler } from 'express';
import { UnauthenticatedError } from '@raptorflow/core/errors/app-error';
import { updateContext } from '@raptorflow/core/context/request-context';
import type { JwtVerifier } from './jwt-verifier';

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/;

export function requireAuth(verifier: JwtVerifier): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header)
      return next(new UnauthenticatedError('Missing Authorization header (expected "Bearer <token>")'));
    const match = BEARER.exec(header.trim());
    if (!match?.[1]) return next(new UnauthenticatedError('Authorization header must be "Bearer <token>"'));
    try {
      const user = await verifier.verify(match[1]);
      req.auth = user;
      updateContext({ userId: user.userId });
      next();
    } catch (err) {
      next(err);
    }
  };
}
