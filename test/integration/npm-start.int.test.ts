import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { getSettings } from '@raptorflow/core/config/settings';
import { ROOT } from '../../scripts/lib/local-stack';
import { client, eventually } from '../support/http';

/**
 * `npm start` as a person runs it (here with this test's database and Redis given explicitly): it prints a
 * working API URL and token, the Lords get seeded, and Ctrl-C (SIGINT to the whole process group, as a
 * terminal sends it) leaves no process behind.
 */
it('starts the whole stack, serves the printed token, and Ctrl-C leaves no child process', async () => {
  const s = getSettings();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/start.ts'],
    {
      cwd: ROOT,
      detached: true, // its own process group, like a terminal's foreground job
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        REDIS_URL: s.redisUrl,
        QUEUE_PREFIX: s.queuePrefix,
        ENVIRONMENT: 'development',
        PORT: '0',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
    },
  );
  const pgid = child.pid!;
  const out: string[] = [];
  for (const stream of [child.stdout!, child.stderr!])
    readline.createInterface({ input: stream }).on('line', (l) => out.push(l));
  try {
    const banner = await eventually(
      async () => out.some((l) => l.includes('export TOKEN=')),
      60_000,
      100,
    ).then(() => out.join('\n'));
    const api = /API:\s+(http:\/\/\S+)/.exec(banner)![1]!;
    const token = /export TOKEN=(\S+)/.exec(banner)![1]!;
    const c = client(api, token);
    const ws = await c.post('/v1/workspaces', { name: 'From npm start' });
    expect(ws.status).toBe(201);
    await eventually(async () => (await c.get('/v1/agents')).body.data?.length === 7, 10_000);
    expect(
      spawnSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n').length,
    ).toBeGreaterThanOrEqual(5);
  } finally {
    process.kill(-pgid, 'SIGINT');
    await new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
  }
  expect(child.exitCode).toBe(0);
  expect(out.join('\n')).toContain('[start] stopped');
  await eventually(async () => spawnSync('pgrep', ['-g', String(pgid)]).status === 1, 10_000);
}, 90_000);
