// bench/gateway: an authenticated, workspace-resolved GET /v1/agents through the whole gateway, against bare
// Express 5 sending the same body (the target's baseline) and a hello-world, each server in its own process,
// all driven by autocannon with the same settings. Then the layered run (bench/gateway-layers-server.ts): the
// real gateway layers added one at a time, each level's req/s, p99 and what the layer costs per request.
// BENCH_GATEWAY_CPU_PROF=<dir> runs the three servers with --cpu-prof into that directory, and profiles each
// level's measured run on its own (<dir>/layer-<n>.cpuprofile, start-up and warm-up left out).
// The servers run their TypeScript under tsx: the bundle's loading does not change a warmed-up request.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { ROOT } from '../scripts/lib/local-stack';
import { mintDevToken } from '../scripts/lib/dev-token';

export interface GatewayBenchOptions {
  db: Knex;
  env: NodeJS.ProcessEnv;
  secret: string;
  audience: string;
  durationSec?: number;
  connections?: number;
  /** Alternating gateway / baseline rounds (5). */
  rounds?: number;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Server CPU time (user + system) per answered request; NaN where /proc is not readable. */
  cpuUs: number;
}

/**
 * CPU time a process has used, from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms). CPU per
 * request, unlike req/s, hardly moves when other processes compete for the cores: what the layers cost.
 */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Spawns a bench server script and waits for the JSON line that `ready` recognizes (it may log first). */
async function spawnServer<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (line: unknown) => T | undefined,
  cpuProf = true,
) {
  const profile =
    cpuProf && env.BENCH_GATEWAY_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_GATEWAY_CPU_PROF}`]
      : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', path.join(ROOT, 'bench', script), ...args],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const value = await new Promise<T>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        const found = ready(JSON.parse(l));
        if (found !== undefined) resolve(found);
      } catch {
        // not JSON: a log line in the pretty format
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited (${code})`)));
  });
  return {
    value,
    pid: child.pid,
    signal: (name: NodeJS.Signals) => child.kill(name),
    stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  };
}

async function startServer(
  kind: 'gateway' | 'bare' | 'bare-same-body' | 'bare-same-body-shaped',
  env: NodeJS.ProcessEnv,
) {
  const server = await spawnServer('gateway-server.ts', [kind], env, (l) => {
    const port = (l as { port?: unknown }).port;
    return typeof port === 'number' ? port : undefined;
  });
  return { url: `http://127.0.0.1:${server.value}`, pid: server.pid, stop: server.stop };
}

async function measure(
  pid: number | undefined,
  url: string,
  headers: Record<string, string>,
  durationSec: number,
  connections: number,
  warmupSec = 2,
  around: (phase: 'start' | 'end') => void = () => undefined,
): Promise<Result> {
  const run = (duration: number) =>
    autocannon({ url: `${url}/v1/agents`, headers, connections, duration, pipelining: 1 });
  await run(warmupSec); // warm-up: JIT, pools, caches
  around('start');
  const cpuBefore = cpuMsOf(pid);
  const r = await run(durationSec);
  const cpuUs = ((cpuMsOf(pid) - cpuBefore) * 1000) / Math.max(1, r.requests.total);
  around('end');
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, cpuUs };
}

export async function runGatewayBench(opts: GatewayBenchOptions): Promise<string[]> {
  const userId = randomUUID();
  const token = await mintDevToken({ userId, secret: opts.secret, audience: opts.audience });
  const [ws] = await opts.db('workspaces').insert({ name: 'bench', created_by: userId }).returning('id');
  await opts.db('workspace_members').insert({ workspace_id: ws.id, user_id: userId, role: 'owner' });
  const { AgentRegistryService } = await import('@raptorflow/data/domain/agent-registry.service');
  await new AgentRegistryService({ db: opts.db }).seedWorkspace(ws.id);

  const duration = opts.durationSec ?? 4;
  const connections = opts.connections ?? 32;
  const headers = { authorization: `Bearer ${token}`, 'x-workspace-id': ws.id };
  const rounds = opts.rounds ?? 5;
  const bare = await startServer('bare', opts.env);
  const b = await measure(bare.pid, bare.url, {}, duration, connections).finally(bare.stop);
  // The gateway and its baseline alternate, round after round, both servers up throughout: on a shared
  // 2-core machine throughput drifts by ±25 % over a minute, and alternating puts each ratio's two halves
  // side by side in time. The figure is the median round's.
  const gw = await startServer('gateway', opts.env);
  const body = await (await fetch(`${gw.url}/v1/agents`, { headers })).text();
  const same = await startServer('bare-same-body', { ...opts.env, BENCH_AGENTS_BODY: body });
  // Not the target's baseline: bare Express on the gateway's own request and response classes
  // (services/gateway/src/http/request-shape.ts), so the report shows what the classes give apart from the layers.
  const shaped = await startServer('bare-same-body-shaped', { ...opts.env, BENCH_AGENTS_BODY: body });
  const measured: Array<{ g: Result; s: Result; k: Result }> = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const warm = round === 0 ? 3 : 0.5;
      const g = await measure(gw.pid, gw.url, headers, duration, connections, warm);
      if (g.non2xx > 0) throw new Error(`gateway answered ${g.non2xx} non-2xx responses during the run`);
      const s = await measure(same.pid, same.url, {}, duration, connections, warm);
      const k = await measure(shaped.pid, shaped.url, {}, duration, connections, warm);
      measured.push({ g, s, k });
    }
  } finally {
    await Promise.all([gw.stop(), same.stop(), shaped.stop()]);
  }
  const byRatio = [...measured].sort((x, y) => x.g.rps / x.s.rps - y.g.rps / y.s.rps);
  const { g, s, k } = byRatio[Math.floor(byRatio.length / 2)]!;
  const layered = await measureLayers({ ...opts.env, BENCH_AGENTS_BODY: body }, headers, connections);
  const ratio = g.rps / s.rps;
  const each = measured.map((p) => (p.g.rps / p.s.rps).toFixed(2)).join(' / ');
  return [
    `bench/gateway (autocannon, ${connections} connections, ${duration} s, server and load tool in separate processes; gateway and bare same-body alternate over ${rounds} rounds, the median round shown)`,
    `  GET /v1/agents (JWT, rate limits, membership, agents list):  ${g.rps.toFixed(0)} req/s, p50 ${g.p50} ms, p99 ${g.p99} ms, ${g.cpuUs.toFixed(0)} µs CPU/req`,
    `  baseline bare Express 5 sending the same ${body.length}-byte body: ${s.rps.toFixed(0)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.cpuUs.toFixed(0)} µs CPU/req`,
    `  bare Express 5, same body, on the gateway's request/response classes: ${k.rps.toFixed(0)} req/s, p50 ${k.p50} ms, p99 ${k.p99} ms, ${k.cpuUs.toFixed(0)} µs CPU/req (gateway = ${(g.rps / k.rps).toFixed(2)} of it: what the layers cost)`,
    `  bare Express 5 hello-world:                                   ${b.rps.toFixed(0)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms, ${b.cpuUs.toFixed(0)} µs CPU/req (gateway = ${(g.rps / b.rps).toFixed(2)} of it)`,
    `  ratio: ${ratio.toFixed(2)} of bare same-body throughput (target ≥ 0.70; rounds ${each}), p99 ${(g.p99 / Math.max(s.p99, 1)).toFixed(2)}× bare (target ≤ 2×); CPU per request ${(s.cpuUs / g.cpuUs).toFixed(2)} of bare's`,
    ...layered,
  ];
}

const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`.padStart(6);

const LAYER_WARMUP_SEC = 1;
const LAYER_DURATION_SEC = 3;

/**
 * One process serving every level (bench/gateway-layers-server.ts), measured one after the other with the
 * same autocannon settings. A layer's cost is the difference in time per request between its level and the
 * one below: the server is CPU-bound on one core, so 1/throughput is the CPU time one request takes.
 */
async function measureLayers(
  env: NodeJS.ProcessEnv,
  headers: Record<string, string>,
  connections: number,
): Promise<string[]> {
  const server = await spawnServer(
    'gateway-layers-server.ts',
    [],
    env,
    (l) => {
      const levels = (l as { levels?: { name: string; port: number }[] }).levels;
      return Array.isArray(levels) ? levels : undefined;
    },
    false,
  );
  // The layers server profiles between two SIGUSR2 (see profileOnSignal there).
  const profile = env.BENCH_GATEWAY_CPU_PROF ? () => server.signal('SIGUSR2') : () => undefined;
  const rows: string[] = [];
  try {
    let below: Result | undefined;
    for (const level of server.value) {
      const r = await measure(
        server.pid,
        `http://127.0.0.1:${level.port}`,
        headers,
        LAYER_DURATION_SEC,
        connections,
        LAYER_WARMUP_SEC,
        profile,
      );
      if (r.non2xx > 0) throw new Error(`layer "${level.name}" answered ${r.non2xx} non-2xx responses`);
      const cost = below ? `${signed(r.cpuUs - below.cpuUs)} µs` : '(baseline)';
      rows.push(
        `  ${level.name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} req/s  p99 ${String(r.p99).padStart(3)} ms  ${r.cpuUs.toFixed(0).padStart(4)} µs CPU/req  ${cost}`,
      );
      below = r;
    }
  } finally {
    await server.stop();
  }
  return [
    `bench/gateway layers (one process, one port per level, ${LAYER_DURATION_SEC} s each after ${LAYER_WARMUP_SEC} s warm-up; a layer's cost = server CPU per request above the level before)`,
    ...rows,
  ];
}
