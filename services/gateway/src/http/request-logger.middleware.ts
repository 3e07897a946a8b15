import { activeTraceIds } from '@raptorflow/core/telemetry/spans';
import type { RequestHandler } from 'express';
import type { Logger } from '@raptorflow/core/logging/logger';
import { onResponseFinish } from './response-finish';

/**
 * One line per request with its latency; the context mixin adds correlation, user and workspace. A 2xx is
 * logged at debug, which production does not enable: the line is then neither built nor listened for.
 */
export function requestLoggerMiddleware(logger: Logger): RequestHandler {
  return (req, res, next) => {
    // The level is only known at 'finish' (from the status); when none of the three is enabled, skip it all.
    if (!logger.isLevelEnabled('error') && !logger.isLevelEnabled('info') && !logger.isLevelEnabled('debug'))
      return next();
    const start = process.hrtime.bigint();
    // Read now, inside the request's span: 'finish' may fire where no span is active.
    const trace = activeTraceIds();
    onResponseFinish(res, () => {
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger[level](
        {
          ...trace,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          duration_ms: Math.round(ms * 100) / 100,
        },
        'request',
      );
    });
    next();
  };
}
