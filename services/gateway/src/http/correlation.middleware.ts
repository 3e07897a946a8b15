import type { RequestHandler } from 'express';
import { acceptCorrelationId, runWithContext } from '@raptorflow/core/context/request-context';

export const CORRELATION_HEADER = 'X-Correlation-Id';

/** Opens the request's context; everything downstream (logs, audit rows, events) inherits its ids. */
export function correlationMiddleware(): RequestHandler {
  return (req, res, next) => {
    const correlationId = acceptCorrelationId(req.get(CORRELATION_HEADER));
    res.setHeader(CORRELATION_HEADER, correlationId);
    const traceparent = req.get('traceparent');
    runWithContext(
      { correlationId, ...(traceparent && traceparent.length <= 128 ? { traceparent } : {}) },
      () => next(),
    );
  };
}
