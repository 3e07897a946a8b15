import type { RequestHandler } from 'express';
import { getMetrics } from '../metrics/metrics';

/**
 * Times every request into `raptorflow_http_request_duration_seconds`. Mount it before the routers.
 *
 * The route label is the matched pattern (`/v1/workspaces/:workspace_id`), never the raw URL, so ids in
 * paths cannot blow up the series count; requests no route matched (404s, scanners) share `unmatched`.
 */
export function httpMetricsMiddleware(): RequestHandler {
  const { httpRequestDuration } = getMetrics();
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    let route: string | undefined;
    // Express sets req.route when a route starts handling the request, but restores req.baseUrl when an
    // error leaves a nested router, so reading both at 'finish' would glue the inner pattern to the outer
    // base. Capturing baseUrl at the moment req.route is set keeps the two consistent.
    let current: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (value: unknown) => {
        current = value;
        const path = (value as { path?: unknown } | undefined)?.path;
        if (path !== undefined) route = `${req.baseUrl}${String(path)}`;
      },
    });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      httpRequestDuration.observe(
        { method: req.method, route: route ?? 'unmatched', status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}
