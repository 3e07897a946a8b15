import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { getCorrelationId } from '@raptorflow/core/context/request-context';
import {
  AppError,
  InvalidJsonError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  isAppError,
} from '@raptorflow/core/errors/app-error';
import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { fromZodError } from '@raptorflow/core/errors/zod-errors';
import type { Logger } from '@raptorflow/core/logging/logger';

interface HttpParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/** body-parser and friends signal client mistakes with a `type` and a 4xx status; map them to AppErrors. */
function fromHttpError(err: HttpParserError): AppError | undefined {
  if (err.type === 'entity.parse.failed') return new InvalidJsonError();
  if (err.type === 'entity.too.large') return new PayloadTooLargeError('1 MiB');
  const status = err.status ?? err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 415 ? 'unsupported_media_type' : 'bad_request';
    return new AppError(code, status, err.expose && err.message ? err.message : 'Bad request');
  }
  return undefined;
}

export function sendError(res: Response, err: AppError): void {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).json({
    error: {
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
    },
    correlation_id: getCorrelationId() ?? res.getHeader('X-Correlation-Id') ?? null,
  });
}

/** The one error handler: every failure leaves as `{"error":{code,message,details?},"correlation_id"}`. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    let appErr: AppError | undefined;
    if (isAppError(err)) appErr = err;
    else if (err instanceof z.ZodError) appErr = fromZodError(err);
    // The database is away for a moment: the client should retry, nothing is wrong with its request.
    else if (isTransientDbError(err))
      appErr = new ServiceUnavailableError('The database is unavailable; try again shortly');
    else if (err && typeof err === 'object') appErr = fromHttpError(err as HttpParserError);

    if (appErr) {
      if (appErr.status >= 500) logger.warn({ code: appErr.code, path: req.path }, appErr.message);
      return sendError(res, appErr);
    }
    const errorId = randomUUID();
    logger.error({ err, error_id: errorId, method: req.method, path: req.path }, 'unhandled error');
    sendError(
      res,
      new AppError('internal_error', 500, `Something went wrong on our side (error id ${errorId})`, {
        error_id: errorId,
      }),
    );
  };
}

/** What an unknown route answers; routes that must not reveal themselves (the dev session) answer it too. */
export function routeNotFound(req: { method: string; path: string }): NotFoundError {
  return new NotFoundError(`No route for ${req.method} ${req.path}`);
}

export function notFoundMiddleware(): RequestHandler {
  return (req, _res, next) => next(routeNotFound(req));
}
