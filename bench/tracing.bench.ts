// bench/tracing: what tracing costs the gateway. The same authenticated GET /v1/agents as bench/gateway, served
// by three gateways, each its own process, driven by autocannon with the same settings, in interleaved rounds:
//   before — the gateway of the commit before tracing existed (BENCH_TRACING_BASE), checked out by `git archive`
//            into .data/bench-tracing-base with its own workspace packages: the baseline;
//   off    — this tree's gateway with tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT: the default);
//   on     — the same with every request traced and exported over OTLP/HTTP to a sink in this process.
import { execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { ROOT } from '../scripts/lib/local-stack';
import { mintDevToken } from '../scripts/lib/dev-token';

/** The last commit without tracing: its parent is where OpenTelemetry came in. */
const DEFAULT_BASE = 'c49e12a^';

export interface TracingBenchOptions {
  db: Knex;
  env: NodeJS.ProcessEnv;
  secret: string;
  audience: string;
}

interface Result {
  rps: number;
  p99: number;
}

/** The base commit's tree with a node_modules of links: third-party packages from here, its own workspaces. */
function checkoutBase(rev: string): string {
  const dir = path.join(ROOT, '.data', 'bench-tracing-base');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execSync(`git -C "${ROOT}" archive ${rev} | tar -x -C "${dir}"`, { stdio: 'pipe' });
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@raptorflow'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === '@raptorflow' || entry.startsWith('.')) continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  const workspaces = (
    JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { workspaces: string[] }
  ).workspaces;
  for (const ws of workspaces) {
    const name = (JSON.parse(fs.readFileSync(path.join(dir, ws, 'package.json'), 'utf8')) as { name: string })
      .name;
    if (name.startsWith('@raptorflow/'))
      fs.symlinkSync(
        path.join(dir, ws),
        path.join(modules, '@raptorflow', name.slice('@raptorflow/'.length)),
      );
    // A workspace's own versions (npm nests a version that differs from the hoisted one).
    const nested = path.join(ROOT, ws, 'node_modules');
    if (fs.existsSync(nested)) fs.symlinkSync(nested, path.join(dir, ws, 'node_modules'));
  }
  return dir;
}

/** An OTLP/HTTP sink: accepts every export and counts the spans in it. */
async function startSink(): Promise<{ url: string; spans: () => number; close: () => Promise<void> }> {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      spans += body.split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

async function startServer(root: string, script: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', script), 'gateway'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        const p = (JSON.parse(l) as { port?: unknown }).port;
        if (typeof p === 'number') resolve(p);
      } catch {
        // a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  };
}

async function measure(url: string, headers: Record<string, string>, seconds: number): Promise<Result> {
  const run = (duration: number) =>
    autocannon({ url: `${url}/v1/agents`, headers, connections: 32, duration, pipelining: 1 });
  await run(2);
  const r = await run(seconds);
  if (r.non2xx > 0) throw new Error(`${url} answered ${r.non2xx} non-2xx responses`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runTracingBench(opts: TracingBenchOptions): Promise<string[]> {
  const rev = opts.env.BENCH_TRACING_BASE ?? DEFAULT_BASE;
  const base = checkoutBase(rev);
  const userId = randomUUID();
  const token = await mintDevToken({ userId, secret: opts.secret, audience: opts.audience });
  const [ws] = await opts
    .db('workspaces')
    .insert({ name: 'bench-tracing', created_by: userId })
    .returning('id');
  await opts.db('workspace_members').insert({ workspace_id: ws.id, user_id: userId, role: 'owner' });
  const { AgentRegistryService } = await import('@raptorflow/data/domain/agent-registry.service');
  await new AgentRegistryService({ db: opts.db }).seedWorkspace(ws.id);
  const headers = { authorization: `Bearer ${token}`, 'x-workspace-id': ws.id };
  const sink = await startSink();
  const off = { ...opts.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' };
  const variants = {
    before: () => startServer(base, 'gateway-server.ts', off),
    off: () => startServer(ROOT, 'gateway-traced-server.ts', off),
    on: () =>
      startServer(ROOT, 'gateway-traced-server.ts', { ...opts.env, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }),
  };
  const rounds = Number(opts.env.BENCH_TRACING_ROUNDS ?? 3);
  const seconds = Number(opts.env.BENCH_TRACING_SECONDS ?? 8);
  const results: Record<keyof typeof variants, Result[]> = { before: [], off: [], on: [] };
  let onRequests = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of Object.keys(variants) as Array<keyof typeof variants>) {
        const server = await variants[name]();
        const r = await measure(server.url, headers, seconds).finally(server.stop);
        results[name].push(r);
        if (name === 'on') onRequests += r.rps * (seconds + 2);
      }
    }
  } finally {
    await sink.close();
    // Not left where jest, eslint or a later build could wander into a second copy of the project.
    fs.rmSync(base, { recursive: true, force: true });
  }
  const rps = (n: keyof typeof variants) => median(results[n].map((r) => r.rps));
  const p99 = (n: keyof typeof variants) => median(results[n].map((r) => r.p99));
  const line = (label: string, n: keyof typeof variants) =>
    `  ${label.padEnd(58)} ${rps(n).toFixed(0)} req/s, p99 ${p99(n)} ms (${(rps(n) / rps('before')).toFixed(3)} of before)`;
  return [
    `bench/tracing (GET /v1/agents, autocannon 32 connections, ${seconds} s × ${rounds} interleaved rounds, medians)`,
    line(`baseline: the gateway before tracing (${rev})`, 'before'),
    line('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, the default)', 'off'),
    line('tracing on, every request exported over OTLP/HTTP', 'on'),
    `  tracing off costs ${((1 - rps('off') / rps('before')) * 100).toFixed(1)} % of throughput (target ≤ 3 %); ` +
      `tracing on exported ${sink.spans()} spans for ~${Math.round(onRequests)} requests`,
  ];
}
