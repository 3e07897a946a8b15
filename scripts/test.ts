// npm test [-- <jest args>]: finds or starts PostgreSQL and Redis (the same discovery as `npm start`), runs
// jest, then the console's unit tests (`npm run test:web`, Vitest in web/). Both always run; the exit code is
// non-zero when either failed. Arguments after `--` go to jest only.
// npm run test:faults [-- <jest args>] (`--faults` first): the slow fault suites under test/faults instead, with
// jest.faults.config.cjs; no console tests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensurePostgres, ensureRedis } from './lib/local-stack';
import type { Dependency } from './lib/local-stack';

let interrupted = false;
const faults = process.argv[2] === '--faults';
const jestArgs = process.argv.slice(faults ? 3 : 2);

/** Runs a child with inherited output, forwarding Ctrl-C/SIGTERM to it; resolves with its exit code. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
  const forward = (sig: NodeJS.Signals) => {
    interrupted = true;
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`[test] could not start ${command}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** `npm run test:web` through the npm that started us (npm_execpath) on this Node.js, else npm from PATH. */
function webUnitTests(): Promise<number> {
  const npmCli = process.env.npm_execpath;
  return npmCli && /\.[cm]?js$/.test(npmCli)
    ? run(process.execPath, [npmCli, 'run', 'test:web'], process.env)
    : run('npm', ['run', 'test:web'], process.env);
}

async function main(): Promise<number> {
  const dataDir = path.join(ROOT, '.data', 'test');
  const deps: Dependency[] = [];
  let jestCode: number;
  try {
    const pg = await ensurePostgres(process.env, dataDir, 'postgres');
    deps.push(pg);
    const redis = await ensureRedis(process.env, dataDir);
    deps.push(redis);
    process.stdout.write(`[test] PostgreSQL: ${pg.description}; Redis: ${redis.description}\n`);
    const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const config = faults ? ['--config', path.join(ROOT, 'jest.faults.config.cjs')] : [];
    jestCode = await run(process.execPath, [jest, ...config, ...jestArgs], {
      ...process.env,
      RAPTORFLOW_TEST_ADMIN_URL: pg.url,
      REDIS_URL: redis.url,
    });
  } finally {
    for (const d of deps.reverse()) await d.stop().catch(() => undefined);
  }
  // The console's unit tests need neither PostgreSQL nor Redis; they run even when jest failed, so one run
  // reports both (not after Ctrl-C).
  if (interrupted) return jestCode || 130;
  if (faults) return jestCode;
  process.stdout.write('[test] console unit tests: npm run test:web (Vitest)\n');
  const webCode = await webUnitTests();
  const verdict = (code: number) => (code === 0 ? 'passed' : `FAILED (exit ${code})`);
  process.stdout.write(`[test] jest ${verdict(jestCode)}; console unit tests ${verdict(webCode)}\n`);
  return jestCode !== 0 ? jestCode : webCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[test] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
