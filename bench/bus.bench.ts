// bench/bus: test.event published through the outbox (row + job + row mark) and handled by real seeder
// processes (audit row), against its physical floor measured in the same run: a raw single-row INSERT commit
// into a table shaped like event_outbox, then a raw BullMQ add of the same envelope and job options, into a
// no-op worker process; and against raw BullMQ add alone. Every path runs the same 50 closed-loop publishers.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { buildBundles } from './build-bundles';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { jobOptionsFor } from '@raptorflow/events/bus/event-catalog';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { ROOT, freePort } from '../scripts/lib/local-stack';
import { waitForExit } from '../scripts/lib/service-process';
import { callsPerEvent, cpuSnapshot, perEvent, redisCalls } from './cpu-split';

const BURST = 2_000;
const PUBLISHERS = 50;
/** Events sent down each path before it is measured (JIT warm-up of every process involved). */
const WARMUP = 1_000;
const RATE = 200;
const RATE_SECONDS = 5;
const FLOOR_TABLE = 'bench_outbox_floor';
// Set BENCH_PROFILE_DIR to run the seeders under --cpu-prof (profiles land there on SIGTERM).
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
// Set BENCH_CPU_SPLIT to print each path's CPU µs per event by process (Linux /proc).
const CPU_SPLIT = !!process.env.BENCH_CPU_SPLIT;
const dbName = () => new URL(getSettings().databaseUrl).pathname.slice(1);
const statsRedis = CPU_SPLIT ? createRedis('client') : undefined;
const calls = async () => (statsRedis ? redisCalls(() => statsRedis.info('commandstats')) : {});
function split(children: ChildProcess[]): Record<string, number | undefined> {
  return Object.fromEntries(children.map((c, i) => [`child${i}`, c.pid]));
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function startSeeders(n: number, env: NodeJS.ProcessEnv): Promise<ChildProcess[]> {
  const procs: ChildProcess[] = [];
  const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    procs.push(
      spawn(process.execPath, [...prof, path.join(ROOT, 'services', 'seeder', 'dist', 'main.js')], {
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

/** `total` calls of `one`, from `PUBLISHERS` loops that each start the next call when their last one ends. */
async function closedLoop<T>(total: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      while (next < total) out.push(await one(next++));
    }),
  );
  return out;
}

/**
 * Waits until every id has its audit row. Each poll looks up only the oldest still-missing ids (handling is
 * roughly in publish order), so the bench's own queries stay small beside the work measured.
 */
async function awaitHandled(db: Knex, ids: string[]): Promise<void> {
  let missing = ids;
  while (missing.length > 0) {
    const head = missing.slice(0, 200);
    const found = new Set(
      (await db('audit_logs').whereIn('event_id', head).pluck<string[]>('event_id')).map(String),
    );
    missing = [...head.filter((id) => !found.has(id)), ...missing.slice(200)];
    if (missing.length > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

async function burstThroughput(db: Knex, bus: RaptorBus, seeders: ChildProcess[]): Promise<number> {
  // Fresh processes run cold (unoptimised) code: the same warm-up as the baselines before measuring.
  const warm = await closedLoop(WARMUP, () =>
    bus.publish('test.event', { message: 'w' }, { workspaceId: null }),
  );
  await awaitHandled(
    db,
    warm.map((e) => e.event_id),
  );
  const cpu0 = CPU_SPLIT ? cpuSnapshot(dbName(), split(seeders)) : undefined;
  const calls0 = await calls();
  const start = performance.now();
  const envs = await closedLoop(BURST, () =>
    bus.publish('test.event', { message: 'b' }, { workspaceId: null }),
  );
  const published = performance.now();
  await awaitHandled(
    db,
    envs.map((e) => e.event_id),
  );
  if (cpu0)
    console.log(
      `outbox x${seeders.length} published in ${(published - start).toFixed(0)} ms, handled in ${(performance.now() - start).toFixed(0)} ms; CPU µs/event: ${perEvent(cpu0, cpuSnapshot(dbName(), split(seeders)), BURST)}; Redis calls/event ${callsPerEvent(calls0, await calls(), BURST)}`,
    );
  return BURST / ((performance.now() - start) / 1000);
}

/** A no-op BullMQ worker in its own process; answers 'count' over IPC with the jobs it completed. */
function startNoopWorker(queue: string, env: NodeJS.ProcessEnv): ChildProcess {
  const code = `const {Worker}=require('bullmq');let done=0;
const w=new Worker(${JSON.stringify(queue)},async()=>{},{connection:{url:process.env.REDIS_URL,maxRetriesPerRequest:null},prefix:process.env.QUEUE_PREFIX,concurrency:16});
w.on('completed',()=>{done++});w.waitUntilReady().then(()=>process.send('ready'));
process.on('message',(m)=>{if(m==='count')process.send(done);else if(m==='stop')w.close().then(()=>process.exit(0));});`;
  return spawn(process.execPath, ['-e', code], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
}

function ask(child: ChildProcess, msg: string): Promise<unknown> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(msg);
  });
}

/** Throughput of `total` publishes made by `one`, until the no-op worker has completed all of them. */
async function noopThroughput(
  what: string,
  worker: ChildProcess,
  one: (i: number) => Promise<unknown>,
): Promise<number> {
  await closedLoop(WARMUP, one);
  const cpu0 = CPU_SPLIT ? cpuSnapshot(dbName(), split([worker])) : undefined;
  const calls0 = await calls();
  const before = Number(await ask(worker, 'count'));
  const start = performance.now();
  await closedLoop(BURST, one);
  while (Number(await ask(worker, 'count')) - before < BURST) await new Promise((r) => setTimeout(r, 20));
  if (cpu0)
    console.log(
      `${what} CPU µs/event: ${perEvent(cpu0, cpuSnapshot(dbName(), split([worker])), BURST)}; Redis calls/event ${callsPerEvent(calls0, await calls(), BURST)}`,
    );
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
  while (sent.length < total) await new Promise((r) => setTimeout(r, 50));
  const ids = sent.map((s) => s.id);
  await awaitHandled(db, ids);
  const rows = await db('audit_logs')
    .whereIn('event_id', ids)
    .select<Array<{ event_id: string; created_at: Date }>>('event_id', 'created_at');
  const at = new Map(sent.map((s) => [s.id, s.at]));
  const lat = rows.map((r) => r.created_at.getTime() - at.get(r.event_id)!).sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** The floor and raw BullMQ: same envelope and job options as the outbox path, no outbox, no handler. */
async function baselines(db: Knex, env: NodeJS.ProcessEnv): Promise<{ floor: number; raw: number }> {
  const settings = getSettings();
  await db.raw(`DROP TABLE IF EXISTS ${FLOOR_TABLE}`);
  await db.raw(`CREATE TABLE ${FLOOR_TABLE} (LIKE event_outbox INCLUDING ALL)`);
  const queue = new Queue('bench-bus-raw', {
    connection: createRedis('producer'),
    prefix: settings.queuePrefix,
  });
  const worker = startNoopWorker('bench-bus-raw', env);
  // Completed jobs are trimmed as the outbox's are; the worker counts them itself.
  const opts = jobOptionsFor('test.event');
  const add = (e: ReturnType<typeof buildEnvelope>) =>
    queue.add('test.event', e, { ...opts, jobId: e.event_id });
  try {
    await new Promise((r) => worker.once('message', r));
    const floor = await noopThroughput('floor', worker, async () => {
      const e = buildEnvelope('test.event', { message: 'b' }, { workspaceId: null });
      // One row, its own transaction (autocommit), then the job.
      await db.raw(
        `INSERT INTO ${FLOOR_TABLE} (id, event_type, queue, workspace_id, envelope) VALUES (?, ?, ?, ?, ?)`,
        [e.event_id, e.event_type, 'system', null, JSON.stringify(e)],
      );
      await add(e);
    });
    const raw = await noopThroughput('raw', worker, () =>
      add(buildEnvelope('test.event', { message: 'b' }, { workspaceId: null })),
    );
    return { floor, raw };
  } finally {
    worker.send('stop');
    await waitForExit(worker, 5_000);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.raw(`DROP TABLE IF EXISTS ${FLOOR_TABLE}`);
  }
}

export async function runBusBench(db: Knex): Promise<string[]> {
  buildBundles();
  const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const lines = [
    `bench/bus (test.event; ${BURST}-event bursts from ${PUBLISHERS} closed-loop publishers; seeder concurrency 16 per process)`,
  ];
  let seeders: ChildProcess[] = [];
  try {
    const { floor, raw } = await baselines(db, env);
    seeders = await startSeeders(1, env);
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
      const rate = await burstThroughput(db, bus, seeders);
      if (n === 1) one = rate;
      byProcs.push(`${n} process${n > 1 ? 'es' : ''}: ${rate.toFixed(0)}/s`);
    }
    lines.push(
      `  outbox → seeder throughput: ${byProcs.join(', ')}`,
      `  floor (1-row INSERT commit → BullMQ add → no-op process): ${floor.toFixed(0)}/s; outbox path with 1 seeder = ${(one / floor).toFixed(2)} of it (target ≥ 0.8)`,
      `  raw BullMQ add → no-op (1 process): ${raw.toFixed(0)}/s; outbox path with 1 seeder = ${(one / raw).toFixed(2)} of it`,
    );
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
