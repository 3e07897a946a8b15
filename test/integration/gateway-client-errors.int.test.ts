import { connect } from 'node:net';
import { expectError } from '../support/gateway';
import { serviceEnv, useServices, whileAlive } from '../support/processes';
import type { RunningService } from '../support/processes';

/**
 * The gateway as production runs it (services/gateway/src/main.ts in its own process): requests Node's
 * HTTP parser refuses before Express sees them are still answered in the error shape.
 */
const { services } = useServices();
let gateway: RunningService;
beforeAll(async () => {
  gateway = await services.start('gateway', serviceEnv());
}, 60_000);

it('answers a 40 kB Authorization header with a JSON 431 carrying a correlation id', async () => {
  const res = await whileAlive(
    'gateway',
    gateway.child,
    fetch(`${gateway.url}/v1/workspaces`, { headers: { authorization: `Bearer ${'x'.repeat(40_000)}` } }),
  );
  const body = (await res.json()) as any;
  expectError({ status: res.status, body }, 431, 'request_header_too_large');
  expect(res.headers.get('x-correlation-id')).toBe(body.correlation_id);
});

it('answers a request that is not HTTP with a JSON 400, and keeps serving', async () => {
  const { hostname, port } = new URL(gateway.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write('HELLO THERE\r\n\r\n'));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
  expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expectError({ status: 400, body: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) }, 400, 'bad_request');
  expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
});
