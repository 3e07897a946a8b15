import { LORD_KEYS } from '@raptorflow/data/domain/council-of-lords';
import { getSettings } from '@raptorflow/core/config/settings';
import { freePort } from '../../scripts/lib/local-stack';
import { spawnService, waitForExit, waitForHttp } from '../../scripts/lib/service-process';
import { newUser } from '../support/factories';
import { client, eventually } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The walking skeleton through every layer, as separate processes: HTTP → gateway → PostgreSQL + outbox →
 * Redis (BullMQ) → seeder process → PostgreSQL → HTTP.
 */
const stack = openStack();
const children: Array<ReturnType<typeof spawnService>> = [];
let api: string;

beforeAll(async () => {
  const s = getSettings();
  const port = await freePort();
  const seederPort = await freePort();
  const env = {
    ...process.env,
    ENVIRONMENT: 'test',
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: s.queuePrefix,
    PORT: String(port),
    SEEDER_PORT: String(seederPort),
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  children.push(spawnService('gateway', env, 'capture'), spawnService('seeder', env, 'capture'));
  api = `http://127.0.0.1:${port}`;
  await Promise.all([
    waitForHttp(`${api}/health/live`, 30_000),
    waitForHttp(`http://127.0.0.1:${seederPort}/health/live`, 30_000),
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => waitForExit(c, 15_000)));
  await stack.close();
});

it('creates a workspace over HTTP and lists its seven Lords, seeded by the separate seeder process', async () => {
  const user = await newUser();
  const c = client(api, user.token);
  const created = await c.post('/v1/workspaces', { name: 'E2E Co' });
  expect(created.status).toBe(201);
  const started = Date.now();
  const agents = await eventually(async () => {
    const res = await c.get('/v1/agents', { headers: { 'x-workspace-id': created.body.id } });
    return res.body.data?.length === 7 ? res.body.data : undefined;
  }, 10_000);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(agents.map((a: { key: string }) => a.key).sort()).toEqual([...LORD_KEYS].sort());
  // The worker wrote its audit row under the request's correlation id, restored from the envelope.
  const audit = await stack
    .db('audit_logs')
    .where({ workspace_id: created.body.id, action: 'workspace.seeded' })
    .first();
  expect(audit.correlation_id).toBe(created.headers.get('x-correlation-id'));
});

it('exits cleanly on SIGTERM', async () => {
  const seeder = children[1]!;
  seeder.kill('SIGTERM');
  await waitForExit(seeder, 15_000);
  expect(seeder.exitCode).toBe(0);
});
