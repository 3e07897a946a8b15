import type { RequestHandler } from 'express';
import { z } from 'zod';
import { AppError } from '@raptorflow/core/errors/app-error';
import { metricsAccess } from '@raptorflow/core/metrics/metrics-access';
import type { MetricsAccessOptions } from '@raptorflow/core/metrics/metrics-access';
import { endpointFactory } from '../http/endpoint';
import { routeNotFound } from '../http/error.middleware';

export interface MetricsRoutesDeps {
  /** The process's registry in the Prometheus text format (app.ts builds it). */
  metrics: RequestHandler;
  /** Who may read it (METRICS_TOKEN, production, this port faces clients), from settings in app.ts. */
  metricsAccess: MetricsAccessOptions;
}

const define = endpointFactory<MetricsRoutesDeps>();

export const metricsEndpoints = [
  define({
    method: 'get',
    path: '/metrics',
    role: 'none',
    tags: ['health'],
    summary: 'Prometheus metrics',
    description:
      'This port faces clients: in production it answers only with `Authorization: Bearer <METRICS_TOKEN>` ' +
      '(401 without it, 404 when no token is set).',
    responses: {
      200: { contentType: 'text/plain', schema: z.string(), description: 'The Prometheus text format' },
    },
    errors: [401, 404],
    // Refusals go through the error middleware, so they carry the correlation id like every other answer
    // (and the 404 is the unknown route's).
    handler: ({ req, res, next }, { metrics, metricsAccess: opts }) => {
      const access = metricsAccess(opts, req.get('authorization'));
      if (access === 404) throw routeNotFound(req);
      if (access === 401) {
        throw new AppError(
          'unauthenticated',
          401,
          'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
          undefined,
          { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        );
      }
      return metrics(req, res, next);
    },
  }),
];
