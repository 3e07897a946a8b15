import type { RequestHandler } from 'express';
import { acceptCorrelationId, runWithContext } from '@raptorflow/core/context/request-context';

export const CORRELATION_HEADER = 'X-Correlation-Id';

/** Opens the request's context; everything downstream (logs, audit rows, events) inherits its ids. */
export function correlationMiddleware(): RequestHandler {
  return (req, res, next) => {
    // req.headers directly: req.get(name) is the same lookup after lower-casing the name per call.
    const correlationId = acceptCorrelationId(req.headers['x-correlation-id']);
    res.setHeader(CORRELATION_HEADER, correlationId);
    const traceparent = req.headers.traceparent;
    runWithContext(
      typeof traceparent === 'string' && traceparent && traceparent.length <= 128
        ? { correlationId, traceparent }
        : { correlationId },
      next,
    );
  };
}
