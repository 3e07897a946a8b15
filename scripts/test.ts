// npm test [-- <jest args>]: finds or starts PostgreSQL and Redis (SPEC §2 discovery), then runs jest.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensurePostgres, ensureRedis } from './lib/local-stack';
import type { Dependency } from './lib/local-stack';

async function main(): Promise<number> {
  const dataDir = path.join(ROOT, '.data', 'test');
  const deps: Dependency[] = [];
  try {
    const pg = await ensurePostgres(process.env, dataDir, 'postgres');
    deps.push(pg);
    const redis = await ensureRedis(process.env, dataDir);
    deps.push(redis);
    process.stdout.write(`[test] PostgreSQL: ${pg.description}; Redis: ${redis.description}\n`);
    const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const child = spawn(process.execPath, [jest, ...process.argv.slice(2)], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, RAPTORFLOW_TEST_ADMIN_URL: pg.url, REDIS_URL: redis.url },
    });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    for (const d of deps.reverse()) await d.stop().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[test] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
