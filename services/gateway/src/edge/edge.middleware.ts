import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Settings } from '@raptorflow/core/config/settings';

type HeaderOp = ['set', string, string | number | readonly string[]] | ['remove', string];

/**
 * helmet's headers do not depend on the request, so they are computed once at start-up by running helmet
 * against a recording response, then replayed: the same headers for a fraction of the per-request cost
 * (helmet is a dozen middlewares deep).
 */
function precomputedHelmet(): RequestHandler {
  const ops: HeaderOp[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => ops.push(['set', name, value]),
    removeHeader: (name: string) => ops.push(['remove', name]),
  };
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
  })({} as never, recorder as never, () => undefined);
  return (_req, res, next) => {
    for (const op of ops) {
      if (op[0] === 'set') res.setHeader(op[1], op[2]);
      else res.removeHeader(op[1]);
    }
    next();
  };
}

/**
 * Browser-facing protections. The API answers JSON only, so its CSP forbids everything; pages that need
 * more (docs, Bull Board) set their own policy. CORS is an explicit allow-list (CORS_ORIGINS); none by default.
 */
export function edgeMiddlewares(settings: Settings): RequestHandler[] {
  const allowed = new Set(settings.corsOrigins);
  const corsHandler = cors({
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Workspace-Id', 'X-Correlation-Id', 'traceparent'],
    exposedHeaders: [
      'X-Correlation-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'RateLimit-Policy',
      'Location',
    ],
    maxAge: 600,
  });
  return [
    precomputedHelmet(),
    // Every answer varies by Origin (shared caches must not hand one origin's CORS headers to another);
    // requests without an Origin (servers, CLIs) are not CORS requests and skip the CORS work.
    (req, res, next) => {
      res.setHeader('Vary', 'Origin');
      if (req.headers.origin === undefined) return next();
      corsHandler(req, res, next);
    },
  ];
}
