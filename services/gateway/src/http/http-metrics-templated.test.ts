import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { httpMetricsMiddleware, tagRouteTemplate } from './http-metrics.middleware';

// The templated-mount path: under /v2 every route names its template (as endpoint-mount.ts does), and the
// labels must be the ones the router tracking gives elsewhere.
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use(httpMetricsMiddleware({ templatedMounts: ['/v2'] }));
  const v2 = express.Router();
  v2.use((req, _res, next) => (req.get('x-deny') ? next(new Error('denied')) : next()));
  v2.get(
    '/things/:thing_id',
    tagRouteTemplate('/v2/things/:thing_id', (req, _res, next) =>
      req.get('x-guard') ? next(new Error('guard')) : next(),
    ),
    (_req, res) => void res.json({}),
  );
  app.use('/v2', v2);
  app.use(((_err, _req, res, _next) => void res.status(500).json({})) as ErrorRequestHandler);
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function counts(): Promise<Map<string, number>> {
  const metric = await getMetrics().httpRequestDuration.get();
  return new Map(
    metric.values
      .filter((v) => v.metricName === 'raptorflow_http_request_duration_seconds_count')
      .map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]),
  );
}

describe('httpMetricsMiddleware under a templated mount', () => {
  it('labels a matched route with its declared template, refused or not, and anything else unmatched', async () => {
    getMetrics().httpRequestDuration.reset();
    const id = '6f68a1b2-0000-4000-8000-000000000001';
    await fetch(`${baseUrl}/v2/things/${id}`);
    await fetch(`${baseUrl}/V2/things/${id}?q=1`); // Express matches paths case-insensitively
    await fetch(`${baseUrl}/v2/things/${id}`, { headers: { 'x-guard': '1' } }); // refused by the route's guard
    await fetch(`${baseUrl}/v2/things/${id}`, { headers: { 'x-deny': '1' } }); // refused before any route
    await fetch(`${baseUrl}/v2/nothing/${id}`);
    const seen = await counts();
    expect(Object.fromEntries(seen)).toEqual({
      'GET /v2/things/:thing_id 200': 2,
      'GET /v2/things/:thing_id 500': 1,
      'GET unmatched 500': 1,
      'GET unmatched 404': 1,
    });
  });
});
