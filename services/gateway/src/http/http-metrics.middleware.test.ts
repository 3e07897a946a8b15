import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { httpMetricsMiddleware } from './http-metrics.middleware';

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use(httpMetricsMiddleware());
  const v1 = express.Router();
  const items = express.Router({ mergeParams: true });
  items.get('/', (_req, res) => void res.json({}));
  items.get('/:item_id', (_req, res) => void res.json({}));
  items.post('/:item_id/fail', () => {
    throw new Error('boom');
  });
  // Two mounts that can match the same actual prefix: the param one is tried first and passes.
  const byParam = express.Router();
  byParam.get('/only-here', (_req, res) => void res.json({}));
  const literal = express.Router();
  literal.get('/ping', (_req, res) => void res.json({}));
  const files = express.Router({ mergeParams: true });
  files.get('/meta', (_req, res) => void res.json({}));
  v1.use('/orgs/:org_id/items', items);
  v1.use('/:anything', byParam);
  v1.use('/static', literal);
  v1.use('/files/*path/x', files);
  app.use('/v1', v1);
  app.use(((_err, _req, res, _next) => void res.status(500).json({})) as ErrorRequestHandler);
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function labels(): Promise<string[]> {
  const metric = await getMetrics().httpRequestDuration.get();
  return metric.values
    .filter((v) => v.metricName === 'raptorflow_http_request_duration_seconds_count')
    .map((v) => `${v.labels.method} ${v.labels.route} ${v.labels.status}`);
}

describe('httpMetricsMiddleware route labels', () => {
  it('rebuilds the whole template across nested routers, whatever ids and encodings the path carries', async () => {
    const org = '6F68A1B2-0000-4000-8000-000000000001';
    for (const [method, path] of [
      ['GET', `/v1/orgs/${org}/items`],
      ['GET', `/v1/orgs/${org}/items/42`],
      ['GET', `/v1/orgs/a%20b/items/x%2Fy`],
      ['POST', `/v1/orgs/${org}/items/${org}/fail`],
      ['GET', '/v1/static/ping'],
      ['GET', '/v1/files/a/b/c/x/meta'],
      ['GET', `/v1/orgs/${org}/nothing`],
    ])
      await fetch(`${baseUrl}${path}`, { method });
    const seen = await labels();
    expect(seen).toEqual(
      expect.arrayContaining([
        'GET /v1/orgs/:org_id/items 200',
        'GET /v1/orgs/:org_id/items/:item_id 200',
        'POST /v1/orgs/:org_id/items/:item_id/fail 500',
        'GET /v1/static/ping 200',
        'GET /v1/files/*path/x/meta 200',
        'GET unmatched 404',
      ]),
    );
    expect(seen.join('\n')).not.toMatch(/6f68a1b2|a b|x%2Fy|a\/b\/c/i);
  });
});
