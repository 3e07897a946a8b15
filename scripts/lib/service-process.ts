import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, waitForExit } from './local-stack';

export const SERVICES = ['gateway', 'seeder', 'agent-runner', 'cost-ledger'] as const;
export type ServiceName = (typeof SERVICES)[number];

const COLORS: Record<ServiceName, string> = {
  gateway: '\x1b[36m',
  seeder: '\x1b[32m',
  'agent-runner': '\x1b[35m',
  'cost-ledger': '\x1b[33m',
};

/** Runs a service from its TypeScript sources (tsx), the way `npm start` and the end-to-end tests do. */
export function spawnService(
  name: ServiceName,
  env: NodeJS.ProcessEnv,
  output: 'prefixed' | 'ignore' | 'capture' = 'prefixed',
): ChildProcess & { output: string[] } {
  // BENCH_CPU_PROF=<dir>: each service writes a V8 CPU profile there when it exits (benches; see bench/).
  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', path.join(ROOT, 'services', name, 'src', 'main.ts')],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', output === 'ignore' ? 'ignore' : 'pipe', output === 'ignore' ? 'ignore' : 'pipe'],
    },
  );
  const lines: string[] = [];
  if (output !== 'ignore') {
    const prefix = process.stdout.isTTY ? `${COLORS[name]}[${name}]\x1b[0m ` : `[${name}] `;
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (output === 'prefixed') process.stdout.write(`${prefix}${line}\n`);
        else if (lines.length < 2_000) lines.push(line);
      });
    }
  }
  return Object.assign(child, { output: lines });
}

export { waitForExit };

export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
