// bench/bus: test.event published through the outbox (row + job + row mark) and handled by real seeder
// processes (audit row), against raw BullMQ add → a no-op worker process on the same Redis, in the same run.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { buildBundles } from './build-bundles';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { ROOT, freePort } from '../scripts/lib/local-stack';
import { waitForExit } from '../scripts/lib/service-process';

const BURST = 2_000;
const RATE = 200;
const RATE_SECONDS = 5;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function startSeeders(n: number, env: NodeJS.ProcessEnv): Promise<ChildProcess[]> {
  const procs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    procs.push(
      spawn(process.execPath, [path.join(ROOT, 'services', 'seeder', 'dist', 'main.js')], {
        cwd: ROOT,
        env: { ...env, SEEDER_PORT: String(port), SEEDER_CONCURRENCY: '16' },
        stdio: 'ignore',
      }),
    );
    for (let t = 0; t < 100; t++) {
      if (
        await fetch(`http://127.0.0.1:${port}/health/live`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return procs;
}

async function stopAll(procs: ChildProcess[]): Promise<void> {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => waitForExit(p, 10_000)));
}

async function handled(db: Knex, ids: string[]): Promise<number> {
  const [row] = await db('audit_logs').whereIn('event_id', ids).count<{ n: string }[]>('* as n');
  return Number(row?.n);
}

async function burstThroughput(db: Knex, bus: RaptorBus): Promise<number> {
  const ids: string[] = [];
  const start = performance.now();
  for (let i = 0; i < BURST; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, () => bus.publish('test.event', { message: 'b' }, { workspaceId: null })),
    );
    ids.push(...batch.map((e) => e.event_id));
  }
  while ((await handled(db, ids)) < BURST) await new Promise((r) => setTimeout(r, 20));
  return BURST / ((performance.now() - start) / 1000);
}

async function rawThroughput(queue: Queue, counter: Queue): Promise<number> {
  const start = performance.now();
  const before = (await counter.getJobCounts('completed')).completed ?? 0;
  for (let i = 0; i < BURST; i += 50)
    await Promise.all(Array.from({ length: 50 }, (_, j) => queue.add('x', { i: i + j })));
  while (((await counter.getJobCounts('completed')).completed ?? 0) - before < BURST)
    await new Promise((r) => setTimeout(r, 20));
  return BURST / ((performance.now() - start) / 1000);
}

/** Publish at a fixed rate; latency = audit row written (DB clock) − publish started (same machine clock). */
async function latencyAtRate(db: Knex, bus: RaptorBus): Promise<{ p50: number; p99: number }> {
  const sent: Array<{ id: string; at: number }> = [];
  const total = RATE * RATE_SECONDS;
  const t0 = Date.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    void bus
      .publish('test.event', { message: 'r' }, { workspaceId: null })
      .then((e) => sent.push({ id: e.event_id, at }));
  }
  const ids = () => sent.map((s) => s.id);
  while (sent.length < total || (await handled(db, ids())) < total)
    await new Promise((r) => setTimeout(r, 50));
  const rows = await db('audit_logs')
    .whereIn('event_id', ids())
    .select<Array<{ event_id: string; created_at: Date }>>('event_id', 'created_at');
  const at = new Map(sent.map((s) => [s.id, s.at]));
  const lat = rows.map((r) => r.created_at.getTime() - at.get(r.event_id)!).sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

export async function runBusBench(db: Knex): Promise<string[]> {
  buildBundles();
  const settings = getSettings();
  const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const lines = [
    `bench/bus (test.event; ${BURST}-event bursts from 50 concurrent publishers; seeder concurrency 16 per process)`,
  ];
  let seeders = await startSeeders(1, env);
  try {
    const lat = await latencyAtRate(db, bus);
    lines.push(
      `  publish → handled at ${RATE} events/s for ${RATE_SECONDS} s: p50 ${lat.p50} ms, p99 ${lat.p99} ms (target p50 ≤ 5 ms)`,
    );
    const byProcs: string[] = [];
    let one = 0;
    for (const n of [1, 2, 4]) {
      if (seeders.length !== n) {
        await stopAll(seeders);
        seeders = await startSeeders(n, env);
      }
      const rate = await burstThroughput(db, bus);
      if (n === 1) one = rate;
      byProcs.push(`${n} process${n > 1 ? 'es' : ''}: ${rate.toFixed(0)}/s`);
    }
    lines.push(`  outbox → seeder throughput: ${byProcs.join(', ')}`);

    // Baseline: raw BullMQ add → a no-op worker in its own process, same Redis, same concurrency.
    await stopAll(seeders);
    seeders = [];
    const rawQueue = new Queue('bench-bus-raw', {
      connection: createRedis('producer'),
      prefix: settings.queuePrefix,
    });
    const worker = spawn(
      process.execPath,
      [
        '-e',
        `const {Worker}=require('bullmq');new Worker('bench-bus-raw',async()=>{},{connection:{url:process.env.REDIS_URL,maxRetriesPerRequest:null},prefix:process.env.QUEUE_PREFIX,concurrency:16,removeOnComplete:{count:100000}});`,
      ],
      { cwd: ROOT, env, stdio: 'ignore' },
    );
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const raw = await rawThroughput(rawQueue, rawQueue);
      lines.push(
        `  baseline raw BullMQ add → no-op (1 process): ${raw.toFixed(0)}/s; outbox path with 1 seeder = ${(one / raw).toFixed(2)} of it (target ≥ 0.6)`,
      );
    } finally {
      worker.kill('SIGTERM');
      await waitForExit(worker, 5_000);
      await rawQueue.obliterate({ force: true }).catch(() => undefined);
      await rawQueue.close();
    }
  } finally {
    await stopAll(seeders);
    await bus
      .queue('system')
      .obliterate({ force: true })
      .catch(() => undefined);
    await bus.close();
  }
  return lines;
}
