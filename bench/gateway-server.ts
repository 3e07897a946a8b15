// One HTTP server for the gateway benchmark, in its own process so the load tool does not share its core.
// argv[2]: "gateway" (the real app: helmet, CORS, JWT, rate limits, membership guard, agents query) or
// "bare" (Express 5 hello-world, the baseline). Prints {"port": n} when listening; SIGTERM stops it.
import express from 'express';
import { RaptorBus, createDatabase, createRedis, getSettings } from '../shared/src';
import { createApp } from '../services/gateway/src/app';

const kind = process.argv[2];
let app: express.Express;
if (kind === 'bare') {
  app = express();
  app.get('/v1/agents', (_req, res) => void res.json({ data: [], next_cursor: null }));
} else {
  const db = createDatabase({ poolMax: 10 });
  app = createApp({ settings: getSettings(), db, bus: new RaptorBus({ db }), redis: createRedis('client') });
}
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
