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
    // Every field the request will fill in (user after auth, workspace and role after resolution) is present
    // from the start: the context keeps one shape, and filling it in allocates nothing.
    runWithContext(
      {
        correlationId,
        traceparent:
          typeof traceparent === 'string' && traceparent && traceparent.length <= 128
            ? traceparent
            : undefined,
        userId: undefined,
        workspaceId: undefined,
        role: undefined,
      },
      next,
    );
  };
}
