import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthService } from '@raptorflow/core/health/health.service';
import { httpStatusFor } from '@raptorflow/core/health/health.service';
import { metricsHandler } from '@raptorflow/core/metrics/metrics';
import { guardedMetrics } from '@raptorflow/core/metrics/metrics-access';
import type { MetricsAccessOptions } from '@raptorflow/core/metrics/metrics-access';
import type { RaptorMetrics } from '@raptorflow/core/metrics/metrics';

/** A worker's small HTTP port: liveness, readiness, the health report and Prometheus metrics. */
export async function startHealthServer(
  health: HealthService,
  port: number,
  /** The registry /metrics serves (the process's getMetrics().registry). */
  registry: RaptorMetrics['registry'],
  extra: () => Record<string, unknown> = () => ({}),
  metricsAccess: Omit<MetricsAccessOptions, 'publicPort'> = { token: undefined, isProduction: false },
): Promise<http.Server & { port: number }> {
  // An internal port (compose does not publish it): METRICS_TOKEN guards it when set.
  const metrics = guardedMetrics({ ...metricsAccess, publicPort: false }, metricsHandler(registry));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET')
      return send(405, { error: { code: 'method_not_allowed', message: 'GET only' } });
    if (path === '/health/live') return send(200, { status: 'ok' });
    if (path === '/metrics') return void metrics(req, res);
    if (path === '/health' || path === '/health/ready') {
      health.check().then(
        (report) => send(httpStatusFor(report), { ...report, ...extra() }),
        () => send(503, { status: 'down' }),
      );
      return;
    }
    send(404, { error: { code: 'not_found', message: `No route for ${path}` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
