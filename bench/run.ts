// npm run bench — each figure is printed beside a baseline measured in the same run on the same machine.
//  1. HTTP: GET /v1/agents through the whole gateway (JWT verify, membership lookup, query) vs a bare Express
//     JSON route in the same process.
//  2. Events: POST-less publish → seeder seeds seven Lords (outbox row, BullMQ job, validation, context, one
//     INSERT) vs a raw BullMQ add → no-op processor round trip on the same Redis.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ROOT, ensurePostgres, ensureRedis } from '../scripts/lib/local-stack';
import { mintDevToken } from '../scripts/lib/dev-token';

const HTTP_REQUESTS = 3_000;
const HTTP_CONCURRENCY = 32;
const EVENTS = 300;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function load(
  url: string,
  headers: Record<string, string>,
): Promise<{ rps: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_CONCURRENCY }, async () => {
      while (next++ < HTTP_REQUESTS) {
        const t = performance.now();
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
        lat.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function main(): Promise<void> {
  const pg = await ensurePostgres(process.env, path.join(ROOT, '.data', 'bench'), 'postgres');
  const redis = await ensureRedis(process.env, path.join(ROOT, '.data', 'bench'));
  const admin = new URL(pg.url);
  const dbName = `raptorflow_bench_${Date.now().toString(36)}`;
  // Settings are read lazily, so the environment can be set before the first getSettings().
  process.env.ENVIRONMENT = 'test';
  process.env.LOG_LEVEL = 'silent';
  process.env.REDIS_URL = redis.url;
  process.env.QUEUE_PREFIX = `{rfbench-${randomUUID().slice(0, 8)}}`;
  const shared = await import('../shared/src');
  const root = shared.createDatabase({ url: pg.url, poolMax: 1 });
  await root.raw(`CREATE DATABASE ${dbName}`);
  admin.pathname = `/${dbName}`;
  process.env.DATABASE_URL = admin.toString();
  const { createApp } = await import('../services/gateway/src/app');
  const { createSeederWorkers } = await import('../services/seeder/src/seeder.worker');
  const { SeederService } = await import('../services/seeder/src/seeder.service');
  const express = (await import('express')).default;
  const { Queue, Worker } = await import('bullmq');

  const db = shared.createDatabase({ poolMax: 10 });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    await shared.migrateLatest(db);
    const settings = shared.getSettings();
    const bus = new shared.RaptorBus({ db });
    const rows: string[] = [];

    // --- 1. HTTP
    const userId = randomUUID();
    const token = await mintDevToken({
      userId,
      secret: settings.supabaseJwtSecret,
      audience: settings.jwtAudience,
    });
    const [ws] = await db('workspaces').insert({ name: 'bench', created_by: userId }).returning('id');
    await db('workspace_members').insert({ workspace_id: ws.id, user_id: userId, role: 'owner' });
    await new shared.AgentRegistryService({ db }).seedWorkspace(ws.id);
    const app = createApp({ settings, db, bus, redis: shared.createRedis('client') });
    const bare = express();
    bare.get('/ping', (_req, res) => void res.json({ data: [], next_cursor: null }));
    const listen = (a: typeof bare) =>
      new Promise<{ url: string; close: () => void }>((resolve) => {
        const s = a.listen(0, '127.0.0.1', () => {
          const port = (s.address() as { port: number }).port;
          resolve({ url: `http://127.0.0.1:${port}`, close: () => s.close() });
        });
      });
    const gw = await listen(app);
    const base = await listen(bare);
    cleanups.push(
      async () => gw.close(),
      async () => base.close(),
    );
    await load(`${base.url}/ping`, {}); // warm-up
    await load(`${gw.url}/v1/agents`, { authorization: `Bearer ${token}` });
    const b = await load(`${base.url}/ping`, {});
    const g = await load(`${gw.url}/v1/agents`, { authorization: `Bearer ${token}` });
    rows.push(
      `HTTP ${HTTP_REQUESTS} req @${HTTP_CONCURRENCY}: GET /v1/agents ${g.rps.toFixed(0)} req/s (p50 ${g.p50.toFixed(1)} ms, p99 ${g.p99.toFixed(1)} ms)` +
        ` | baseline bare Express ${b.rps.toFixed(0)} req/s (p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms)`,
    );

    // --- 2. Events
    const seeders = createSeederWorkers(new SeederService({ db }), { concurrency: 8 });
    cleanups.push(() => Promise.all(seeders.map((w) => w.close())));
    const wsIds: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const [w] = await db('workspaces')
        .insert({ name: `b${i}`, created_by: userId })
        .returning('id');
      wsIds.push(w.id);
    }
    let t = performance.now();
    await Promise.all(
      wsIds.map((id) =>
        bus.publish(
          'workspace.created',
          { workspace_id: id, name: 'b', created_by: userId },
          { workspaceId: id },
        ),
      ),
    );
    for (;;) {
      const [row] = await db('agents').whereIn('workspace_id', wsIds).count<{ c: string }[]>('* as c');
      if (Number(row?.c) >= EVENTS * 7) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ours = (performance.now() - t) / 1000;

    const rawName = 'bench-raw';
    const rawQueue = new Queue(rawName, {
      connection: shared.createRedis('producer'),
      prefix: settings.queuePrefix,
    });
    let done = 0;
    const rawWorker = new Worker(rawName, async () => void done++, {
      connection: shared.createRedis('worker'),
      prefix: settings.queuePrefix,
      concurrency: 8,
    });
    cleanups.push(
      () => rawWorker.close(),
      () => rawQueue.obliterate({ force: true }).then(() => rawQueue.close()),
    );
    t = performance.now();
    await Promise.all(Array.from({ length: EVENTS }, (_, i) => rawQueue.add('x', { i })));
    while (done < EVENTS) await new Promise((r) => setTimeout(r, 5));
    const raw = (performance.now() - t) / 1000;
    rows.push(
      `Events ${EVENTS} @concurrency 8: workspace.created → 7 Lords seeded ${(EVENTS / ours).toFixed(0)} events/s (${ours.toFixed(2)} s)` +
        ` | baseline raw BullMQ add → no-op ${(EVENTS / raw).toFixed(0)} jobs/s (${raw.toFixed(2)} s)`,
    );
    for (const q of shared.QUEUE_NAMES) cleanups.push(() => bus.queue(q).obliterate({ force: true }));
    cleanups.push(() => bus.close());

    process.stdout.write(`\n${rows.join('\n')}\n\n`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await shared.closeRedisConnections();
    await db.destroy();
    await root.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await root.destroy();
    await redis.stop();
    await pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
