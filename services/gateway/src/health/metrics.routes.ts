import type { RequestHandler } from 'express';
import { z } from 'zod';
import { endpointFactory } from '../http/endpoint';

export interface MetricsRoutesDeps {
  /** guardedMetrics over the process's registry, built from settings in app.ts. */
  metrics: RequestHandler;
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
    handler: ({ req, res, next }, { metrics }) => metrics(req, res, next),
  }),
];
