// One HTTP server for the gateway benchmark, in its own process so the load tool does not share its core.
// argv[2]: "gateway" (the real app: helmet, CORS, JWT, rate limits, membership guard, agents query) or
// "bare" (Express 5 hello-world, the baseline) or "bare-same-body" (Express 5 returning the gateway's body) or
// "bare-same-body-shaped" (the same on the gateway's request and response classes). Prints {"port": n} when
// listening; SIGTERM stops it.
import { createServer } from 'node:http';
import express from 'express';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createDatabase } from '@raptorflow/core/db/database';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { createApp } from '../services/gateway/src/app';
import { createGatewayServer } from '../services/gateway/src/http/request-shape';

const kind = process.argv[2];
let app: express.Express;
if (kind === 'bare') {
  app = express();
  app.get('/v1/agents', (_req, res) => void res.json({ hello: 'world' }));
} else if (kind === 'bare-same-body' || kind === 'bare-same-body-shaped') {
  // Same framework, same response body as the gateway: separates the cost of the payload from the gateway's.
  const body = JSON.parse(process.env.BENCH_AGENTS_BODY ?? '{}') as unknown;
  app = express();
  app.get('/v1/agents', (_req, res) => void res.json(body));
} else {
  const db = createDatabase({ url: getSettings().databaseUrl, poolMax: 10 });
  // The agents list the benchmark asks for never searches memory: the path only shows on /health.
  app = createApp({
    memoryPath: 'exact',
    settings: getSettings(),
    db,
    bus: new RaptorBus({ db, prefix: getSettings().queuePrefix }),
    redis: createRedis('client'),
  });
}
// The gateway listens as main.ts does (its request and response classes, request-shape.ts); the baselines as
// Express does, except "bare-same-body-shaped": bare Express on the gateway's classes, to show what they give.
const shaped = kind === 'gateway' || kind === 'bare-same-body-shaped';
const server = (shaped ? createGatewayServer(app) : createServer(app)).listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
