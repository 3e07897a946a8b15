// The gateway's request and response classes (request-shape.ts) declare every field Express, its router and
// the gateway's layers set on a request: a field added after construction costs a hidden-class change and
// about 1.4 kB per request. Here, real requests through the whole app (real PostgreSQL and Redis) must add
// no own property to either object; a layer that starts setting a new field fails this test until the field
// is declared there.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GatewayRequest,
  GatewayResponse,
  createGatewayServer,
} from '../../services/gateway/src/http/request-shape';
import { newUser, newWorkspace } from '../support/factories';
import { gatewayApp } from '../support/gateway';
import { openStack } from '../support/stack';

const stack = openStack();

interface Seen {
  url: string;
  /** Whether the server made them from the gateway's classes (Express changes their prototypes later). */
  made: boolean;
  req: IncomingMessage;
  res: ServerResponse;
  reqKeys: PropertyKey[];
  resKeys: PropertyKey[];
}
const seen: Seen[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  const app = await gatewayApp(stack);
  server = createGatewayServer((req, res) => {
    // The keys as the server made them, before Express or any layer saw the request.
    seen.push({
      url: req.url ?? '',
      made: req instanceof GatewayRequest && res instanceof GatewayResponse,
      req,
      res,
      reqKeys: Reflect.ownKeys(req),
      resKeys: Reflect.ownKeys(res),
    });
    app(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await stack.close();
});

/** Sends the request, then the fields its request and response gained while the gateway handled it. */
async function added(path: string, init: RequestInit = {}): Promise<{ status: number; added: string[] }> {
  const before = seen.length;
  const res = await fetch(`${url}${path}`, init);
  await res.arrayBuffer();
  const s = seen[before];
  if (!s || s.url !== path) throw new Error(`the server saw ${s?.url} for ${path}`);
  const fresh = (now: PropertyKey[], then: PropertyKey[]) =>
    now.filter((k) => !then.includes(k)).map((k) => String(k));
  return {
    status: res.status,
    added: [
      ...fresh(Reflect.ownKeys(s.req), s.reqKeys).map((k) => `req.${k}`),
      ...fresh(Reflect.ownKeys(s.res), s.resKeys).map((k) => `res.${k}`),
    ],
  };
}

it('makes its requests and responses from the declared classes', async () => {
  await added('/health/live');
  expect(seen[seen.length - 1]!.made).toBe(true);
});

it('adds no field to a request or its response on the hot path, cold or cached, nor on refusals', async () => {
  const user = await newUser();
  const ws = await newWorkspace(stack.db, user);
  const auth = { authorization: `Bearer ${user.token}`, 'x-workspace-id': ws.id };
  // First: token verified, membership and agents list loaded; then the same from the caches.
  for (let i = 0; i < 3; i++)
    expect(await added('/v1/agents', { headers: auth })).toEqual({ status: 200, added: [] });
  expect(await added('/v1/agents', { method: 'HEAD', headers: auth })).toEqual({ status: 200, added: [] });
  expect(await added('/v1/agents')).toEqual({ status: 401, added: [] });
  expect(await added('/v1/agents', { headers: { ...auth, 'x-workspace-id': 'nope' } })).toEqual({
    status: 422,
    added: [],
  });
  expect(await added('/v1/no-such-thing', { headers: auth })).toEqual({ status: 404, added: [] });
  expect(await added('/health/live')).toEqual({ status: 200, added: [] });
});

it('adds no field to a write with a JSON body', async () => {
  const user = await newUser();
  const res = await added('/v1/workspaces', {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'shape' }),
  });
  expect(res).toEqual({ status: 201, added: [] });
});

it("passes node:http's options on to its responses", async () => {
  // With rejectNonStandardBodyWrites, a body written to a HEAD response throws (Node's own check).
  const seenHere: { made?: boolean; refused?: string } = {};
  const other = createGatewayServer(
    (_req, res) => {
      seenHere.made = res instanceof GatewayResponse;
      try {
        res.write('body');
        seenHere.refused = 'no';
      } catch (err) {
        seenHere.refused = (err as { code?: string }).code ?? 'error';
      }
      res.end();
    },
    { rejectNonStandardBodyWrites: true },
  );
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    const port = (other.address() as AddressInfo).port;
    expect((await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' })).status).toBe(200);
    expect(seenHere).toEqual({ made: true, refused: 'ERR_HTTP_BODY_NOT_ALLOWED' });
  } finally {
    other.closeAllConnections();
    await new Promise((r) => other.close(r));
  }
});
