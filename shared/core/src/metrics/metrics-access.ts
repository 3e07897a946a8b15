import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface MetricsAccessOptions {
  /** METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <token>`. */
  token: string | undefined;
  isProduction: boolean;
  /**
   * The gateway's port faces clients; a worker's health port is internal (compose does not publish it).
   * In production a public port serves metrics only with the token; an internal one may serve them without.
   */
  publicPort: boolean;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Compared at full length whatever the input, so timing says nothing about how much of it matched.
  return (
    timingSafeEqual(
      Buffer.concat([a, Buffer.alloc(Math.max(0, b.length - a.length))]).subarray(0, b.length),
      b,
    ) && a.length === b.length
  );
}

/** `ok`, or the status to answer instead: 401 for a missing/wrong token, 404 where metrics are not served. */
export function metricsAccess(
  opts: MetricsAccessOptions,
  authorization: string | undefined,
): 'ok' | 401 | 404 {
  if (opts.token === undefined) return opts.isProduction && opts.publicPort ? 404 : 'ok';
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return m && sameSecret(m[1]!.trim(), opts.token) ? 'ok' : 401;
}

/** Wraps a metrics handler with the access rule; refusals use the API's error shape. */
export function guardedMetrics(
  opts: MetricsAccessOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const access = metricsAccess(opts, req.headers.authorization);
    if (access === 'ok') return handler(req, res);
    const body =
      access === 401
        ? {
            error: {
              code: 'unauthenticated',
              message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
            },
          }
        : { error: { code: 'not_found', message: 'No route for /metrics' } };
    res.writeHead(access, {
      'content-type': 'application/json',
      ...(access === 401 ? { 'www-authenticate': 'Bearer realm="metrics"' } : {}),
    });
    res.end(JSON.stringify(body));
  };
}
