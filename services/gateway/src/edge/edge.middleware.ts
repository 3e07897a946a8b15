import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Settings } from '@raptorflow/shared';

/**
 * Browser-facing protections. The API answers JSON only, so its CSP forbids everything; pages that need
 * more (docs, Bull Board) set their own policy. CORS is an explicit allow-list (CORS_ORIGINS); none by default.
 */
export function edgeMiddlewares(settings: Settings): RequestHandler[] {
  const allowed = new Set(settings.corsOrigins);
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      crossOriginResourcePolicy: { policy: 'same-site' },
    }),
    cors({
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
    }),
  ];
}
