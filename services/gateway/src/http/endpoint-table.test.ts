import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import { EndpointTable } from './endpoint-table';
import { underPath } from './handler-chain';

/**
 * The table against Express's own router: the same routes, front and error handling mounted both ways, the
 * same raw requests sent to each; every answer (status, which route, which parameters) must be the same.
 */
type Method = 'get' | 'post' | 'patch' | 'delete';
const PUBLIC: Array<[Method, string]> = [['get', '/v1/console/config']];
const SIGNED_IN: Array<[Method, string]> = [
  ['get', '/v1/agents'],
  ['get', '/v1/agent-runs/stats'],
  ['get', '/v1/agent-runs/:id'],
  ['delete', '/v1/agent-runs/:id'],
  ['post', '/v1/agent-runs/:id/cancel'],
  ['get', '/v1/workspaces/:workspace_id/members/:user_id'],
  ['patch', '/v1/workspaces/:workspace_id/members/:user_id'],
  // A parameter declared ahead of a static segment: the first declared wins, as in Express.
  ['get', '/v1/things/:thing'],
  ['get', '/v1/things/special'],
  ['post', '/v1/things/special'],
];
const AFTER: Array<[Method, string]> = [['get', '/health']];

const answer =
  (path: string): RequestHandler =>
  (req, res) => {
    res.json({ route: path, params: { ...req.params }, seen: (req.route as { path?: string })?.path });
  };
const front: RequestHandler = (req, res, next) => {
  if (req.headers['x-auth'] !== 'yes') res.status(401).json({ error: 'unauthenticated' });
  else next();
};
const errors: ErrorRequestHandler = (err: { status?: number; message: string }, _req, res, _next) => {
  res.status(err.status ?? 500).json({ error: err.message });
};
const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not found' });
};

function routerApp(): Express {
  const app = express();
  for (const [m, p] of PUBLIC) app[m](p, answer(p));
  app.use(underPath('/v1', front));
  for (const [m, p] of [...SIGNED_IN, ...AFTER]) app[m](p, answer(p));
  app.use(notFound);
  app.use(errors);
  return app;
}

function tableApp(): Express {
  const app = express();
  const table = new EndpointTable();
  for (const [m, p] of PUBLIC) table.add(m, p, [answer(p)]);
  for (const [m, p] of SIGNED_IN) table.add(m, p, [answer(p)], front);
  for (const [m, p] of AFTER) table.add(m, p, [answer(p)]);
  app.use(table.middleware());
  app.use(underPath('/v1', front));
  app.use(notFound);
  app.use(errors);
  return app;
}

/** One raw request: the target goes out byte for byte (latin1), as written; fetch would normalise it. */
function send(port: number, method: string, target: string, auth: boolean) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const headers = `Host: localhost\r\nConnection: close\r\n${auth ? 'X-Auth: yes\r\n' : ''}`;
      socket.end(Buffer.from(`${method} ${target} HTTP/1.1\r\n${headers}\r\n`, 'latin1'));
    });
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (raw += c));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1] ?? 0);
      resolve({ status, body: raw.slice(raw.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const servers: http.Server[] = [];
let routerPort = 0;
let tablePort = 0;
beforeAll(async () => {
  const listen = (app: Express) =>
    new Promise<number>((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
      servers.push(server);
    });
  routerPort = await listen(routerApp());
  tablePort = await listen(tableApp());
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const TARGETS = [
  '/v1/agents',
  '/v1/agents/',
  '/v1/agents//',
  '/V1/Agents',
  '/v1/agents?limit=2&x=/v1/y',
  '/v1//agents',
  '/v1/agent-runs/stats',
  '/v1/agent-runs/STATS',
  '/v1/agent-runs/abc',
  '/v1/agent-runs/a%2Fb',
  '/v1/agent-runs/%41%42',
  '/v1/agent-runs/%E0%A4%A',
  '/v1/agent-runs/%E0%A4%A/cancel',
  '/v1/agent-runs/x/cancel',
  '/v1/agent-runs/x/cancel/',
  '/v1/agent-runs/x/y/cancel',
  '/v1/agent-runs/',
  '/v1/agent-runs/..',
  '/v1/agent-runs/%00',
  '/v1/agent-runs/caf%C3%A9',
  '/v1/workspaces/w1/members/u1',
  '/v1/workspaces/w%201/members/u1/',
  '/v1/workspaces//members/u1',
  '/v1/things/special',
  '/v1/things/other',
  '/v1/things/%E0',
  '/v1/console/config',
  '/v1/console/config/',
  '/v1/console',
  '/v1',
  '/v1/',
  '/v1/nothing-here',
  '/health',
  '/HEALTH/',
  '/health/x',
  '/nothing',
  '/',
  '/v1/agent-runs/\u00c0\u00e9',
  '/v1/\u00c0gents',
  '/v1/agent-runs/a b',
  'http://localhost/v1/agents',
  'http://localhost/v1/agent-runs/abc?x=1',
  'http://localhost/health',
];

it.each(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'])(
  'answers every %s request as Express routes would, signed in and not',
  async (method) => {
    for (const target of TARGETS) {
      for (const auth of [true, false]) {
        const viaRouter = await send(routerPort, method, target, auth);
        const viaTable = await send(tablePort, method, target, auth);
        expect({ method, target, auth, ...viaTable }).toEqual({ method, target, auth, ...viaRouter });
      }
    }
  },
);

it('finds the route by segment and decodes its parameters', () => {
  const table = new EndpointTable();
  const noop: RequestHandler = (_q, _s, next) => next();
  table.add('get', '/v1/agent-runs/stats', [noop]);
  table.add('get', '/v1/agent-runs/:id', [noop]);
  const stats = table.lookup('GET', '/v1/agent-runs/stats');
  expect(stats && 'params' in stats && stats.route.path).toBe('/v1/agent-runs/stats');
  const one = table.lookup('HEAD', '/v1/agent-runs/caf%C3%A9/');
  expect(one && 'params' in one ? { ...one.params } : one).toEqual({ id: 'café' });
  expect(table.lookup('POST', '/v1/agent-runs/x')).toBeUndefined();
  const bad = table.lookup('GET', '/v1/agent-runs/%E0');
  expect(bad && 'error' in bad && (bad.error as { status: number }).status).toBe(400);
  // Case folds for ASCII letters only, as a regular expression's i flag: not the Kelvin sign's K.
  expect(table.lookup('GET', '/V1/Agent-Runs/STATS')).toBeDefined();
  const kelvin = table.lookup('GET', '/v1/agent-runs/\u212A');
  expect(kelvin && 'params' in kelvin && kelvin.route.path).toBe('/v1/agent-runs/:id');
  expect(table.routes).toEqual(['GET /v1/agent-runs/stats', 'GET /v1/agent-runs/:id']);
});

it('refuses a path the table cannot represent', () => {
  const table = new EndpointTable();
  expect(() => table.add('get', '/v1/files/*rest', [])).toThrow(/only static segments/);
  expect(() => table.add('get', 'v1/x', [])).toThrow(/only static segments/);
});
