import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { RequestListener, Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
// The router's own symbol for the route a request matched (set on every routed request); the router
// package is pinned with express so that this is the very symbol express's router uses.
import { matchedRoute } from 'router/lib/symbols';
import { RATE_LIMIT_FIELDS } from '../edge/rate-limit.middleware';
import { ROUTE_TEMPLATE } from './http-metrics.middleware';
import { FINISH_CALLBACKS } from './response-finish';

const { advertised, countedUser, countedWorkspace } = RATE_LIMIT_FIELDS;
// The router's record of the errors it has reported to tracing (set when a request meets an error).
const routerPublishedErrors: unique symbol = Symbol.for('router.tracing.publishedErrors');

/*
 * Why these classes exist: Express, its router and the gateway's layers each add fields to every request
 * and response (req.next, req.params, req.auth, res.locals, …). On Express 5 / Node 20, a field added to a
 * request after construction (it gives the object a new hidden class) measured about 1.5 kB of allocation
 * and a runtime call per request, and the gateway's fifteen cost it more than all of its own layers' logic
 * (docs/benchmarks.md). Declared in the constructor, the same fields are part of the object from its birth,
 * and setting them is a plain store. The values stay undefined until set, so every reader sees what it saw
 * before (`'body' in req` aside, which nothing relies on: body-parser sets req.body to undefined itself).
 *
 * test/integration/gateway-request-shape.int.test.ts checks that requests through the whole gateway add no
 * field to either object.
 */

/** An IncomingMessage with every field Express, its router and the gateway set on a request declared. */
export class GatewayRequest extends IncomingMessage {
  // Express (app.handle) and its router (handle, layers, routes).
  res: unknown = undefined;
  next: unknown = undefined;
  baseUrl: unknown = undefined;
  originalUrl: unknown = undefined;
  _parsedUrl: unknown = undefined;
  params: unknown = undefined;
  route: unknown = undefined;
  [matchedRoute]: unknown = undefined;
  [routerPublishedErrors]: unknown = undefined;
  // The gateway: JSON body, authentication, workspace, rate-limit bookkeeping, metrics label.
  body: unknown = undefined;
  auth: unknown = undefined;
  workspace: unknown = undefined;
  [countedUser]: unknown = undefined;
  [countedWorkspace]: unknown = undefined;
  [ROUTE_TEMPLATE]: unknown = undefined;

  // Whatever node:http passes on (today the socket), passed on as it is.
  constructor(...args: [Socket, ...unknown[]]) {
    super(...(args as [Socket]));
    // Node's own: counted on the first listener (the prototype's 0 until then).
    ownDefault(this, '_eventsCount');
  }
}

/** A ServerResponse with every field Express and the gateway set on a response declared. */
export class GatewayResponse extends ServerResponse {
  locals: unknown = undefined;
  [advertised]: unknown = undefined;
  [FINISH_CALLBACKS]: unknown = undefined;

  // Whatever node:http passes on (the request and the server's options: highWaterMark, …), passed on.
  constructor(...args: [IncomingMessage, ...unknown[]]) {
    super(...(args as [IncomingMessage]));
    // Node's own: writeHead sets them (the prototype's 200 and undefined until then).
    ownDefault(this, 'statusCode');
    ownDefault(this, 'statusMessage');
  }
}

/** Makes the value `obj` inherits for `key` its own (the same value, read the same way), unless it is already. */
function ownDefault(obj: object, key: string): void {
  if (!Object.hasOwn(obj, key)) Reflect.set(obj, key, Reflect.get(obj, key));
}

/** The gateway's HTTP server: node:http (with `options`) on the request and response classes above. */
export function createGatewayServer(
  listener: RequestListener,
  options: Omit<ServerOptions, 'IncomingMessage' | 'ServerResponse'> = {},
): Server {
  return createServer(
    {
      ...options,
      IncomingMessage: GatewayRequest,
      ServerResponse: GatewayResponse as unknown as typeof ServerResponse,
    },
    listener,
  );
}
