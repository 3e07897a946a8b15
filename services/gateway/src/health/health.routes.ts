import { httpStatusFor } from '@raptorflow/core/health/health.service';
import type { HealthService } from '@raptorflow/core/health/health.service';
import { endpointFactory } from '../http/endpoint';
import type { HandlerInput } from '../http/endpoint';
import { healthReportSchema, liveSchema } from './health.schemas';

export interface HealthRoutesDeps {
  health: HealthService;
}

const HealthReport = healthReportSchema.meta({ id: 'HealthReport' });
const define = endpointFactory<HealthRoutesDeps>();

const full = async ({ res }: HandlerInput<unknown, unknown, unknown>, { health }: HealthRoutesDeps) => {
  const report = await health.check();
  res.status(httpStatusFor(report)).json(report);
};
const fullResponses = {
  200: { schema: HealthReport, description: '`ok`, or `degraded` (an offline stand-in or a retired model)' },
  503: { schema: HealthReport, description: '`down`: Redis or the database is unreachable' },
};

export const healthEndpoints = [
  define({
    method: 'get',
    path: '/health',
    role: 'none',
    tags: ['health'],
    summary: 'Redis, database, model aliases and configuration',
    responses: fullResponses,
    handler: full,
  }),
  define({
    method: 'get',
    path: '/health/ready',
    role: 'none',
    tags: ['health'],
    summary: 'Readiness: the same report as /health',
    responses: fullResponses,
    handler: full,
  }),
  define({
    method: 'get',
    path: '/health/live',
    role: 'none',
    tags: ['health'],
    summary: 'Liveness: the process answers',
    responses: { 200: { schema: liveSchema, description: 'Always `ok`' } },
    handler: ({ res }) => {
      res.json({ status: 'ok' });
    },
  }),
];
