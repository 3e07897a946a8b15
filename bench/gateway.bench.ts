// bench/gateway: an authenticated, workspace-resolved GET /v1/agents through the whole gateway, against a bare
// Express 5 hello-world, each server in its own process, both driven by autocannon with the same settings.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { buildBundles } from './build-bundles';
import { ROOT } from '../scripts/lib/local-stack';
import { mintDevToken } from '../scripts/lib/dev-token';

export interface GatewayBenchOptions {
  db: Knex;
  env: NodeJS.ProcessEnv;
  secret: string;
  audience: string;
  durationSec?: number;
  connections?: number;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function startServer(kind: 'gateway' | 'bare' | 'bare-same-body', env: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench', 'gateway-server.ts'), kind],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    // The server may log first (e.g. the offline-model announcement); the port line is the one with a port.
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        const port = (JSON.parse(l) as { port?: unknown }).port;
        if (typeof port === 'number') resolve(port);
      } catch {
        // not JSON: a log line in the pretty format
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  };
}

async function measure(
  url: string,
  headers: Record<string, string>,
  durationSec: number,
  connections: number,
): Promise<Result> {
  const run = (duration: number) =>
    autocannon({ url: `${url}/v1/agents`, headers, connections, duration, pipelining: 1 });
  await run(2); // warm-up: JIT, pools, caches
  const r = await run(durationSec);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
}

export async function runGatewayBench(opts: GatewayBenchOptions): Promise<string[]> {
  buildBundles();
  const userId = randomUUID();
  const token = await mintDevToken({ userId, secret: opts.secret, audience: opts.audience });
  const [ws] = await opts.db('workspaces').insert({ name: 'bench', created_by: userId }).returning('id');
  await opts.db('workspace_members').insert({ workspace_id: ws.id, user_id: userId, role: 'owner' });
  const { AgentRegistryService } = await import('@raptorflow/data/domain/agent-registry.service');
  await new AgentRegistryService({ db: opts.db }).seedWorkspace(ws.id);

  const duration = opts.durationSec ?? 8;
  const connections = opts.connections ?? 32;
  const headers = { authorization: `Bearer ${token}`, 'x-workspace-id': ws.id };
  const gw = await startServer('gateway', opts.env);
  const body = await (await fetch(`${gw.url}/v1/agents`, { headers })).text();
  const g = await measure(gw.url, headers, duration, connections).finally(gw.stop);
  if (g.non2xx > 0) throw new Error(`gateway answered ${g.non2xx} non-2xx responses during the run`);
  const bare = await startServer('bare', opts.env);
  const b = await measure(bare.url, {}, duration, connections).finally(bare.stop);
  const same = await startServer('bare-same-body', { ...opts.env, BENCH_AGENTS_BODY: body });
  const s = await measure(same.url, {}, duration, connections).finally(same.stop);
  const ratio = g.rps / b.rps;
  return [
    `bench/gateway (autocannon, ${connections} connections, ${duration} s, server and load tool in separate processes)`,
    `  GET /v1/agents (JWT, rate limits, membership, agents list):  ${g.rps.toFixed(0)} req/s, p50 ${g.p50} ms, p99 ${g.p99} ms`,
    `  baseline bare Express 5 hello-world:                          ${b.rps.toFixed(0)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms`,
    `  bare Express 5 sending the same ${body.length}-byte body:      ${s.rps.toFixed(0)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms (gateway = ${(g.rps / s.rps).toFixed(2)} of it)`,
    `  ratio: ${ratio.toFixed(2)} of bare throughput (target ≥ 0.70), p99 ${(g.p99 / Math.max(b.p99, 1)).toFixed(2)}× bare (target < 2×)`,
  ];
}
