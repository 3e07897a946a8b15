// npm start: the whole system on one machine (SPEC §2).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createDatabase } from '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';
import { migrateLatest } from '@raptorflow/data/migrate';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { mintDevToken } from '@raptorflow/core/auth/dev-token';
import { buildConsole, consoleBuilt, consoleSourcesPresent } from './lib/console-build';
import { ROOT, ensurePostgres, ensureRedis, freePort } from './lib/local-stack';
import type { Dependency } from './lib/local-stack';
import { SERVICES, spawnService, waitForExit, waitForHttp } from './lib/service-process';
import type { ServiceName } from './lib/service-process';

const say = (msg: string) => process.stdout.write(`[start] ${msg}\n`);

const deps: Dependency[] = [];
const children = new Map<ServiceName, ReturnType<typeof spawnService>>();
let stopping = false;
let consoleBuild: ReturnType<typeof buildConsole> | undefined;

/**
 * The console is web/dist, served by the gateway at `/`. Built here when it is missing, alongside the rest of
 * start-up (the gateway looks for it on every request, so it appears once the build ends). A failed build
 * is reported and nothing else stops: the API does not need it.
 */
function ensureConsole(): () => string {
  if (consoleBuilt()) return () => '';
  if (!consoleSourcesPresent()) {
    say('console: web/index.html not found, nothing to build; the API runs without it');
    return () => '   (not built: no web/ sources)';
  }
  say('console: web/dist is missing, building it (npm run build:web) while the services start…');
  let state = '   (building: reload when "[start] console built" appears)';
  const build = buildConsole((line) => process.stdout.write(`[console] ${line}\n`));
  consoleBuild = build;
  void build.done.then((result) => {
    if (stopping) return;
    if (result.ok) {
      state = '';
      say(`console built in ${(result.ms / 1000).toFixed(1)} s (web/dist): reload the console page`);
      return;
    }
    state = '   (not built: the build failed, see above)';
    say(
      [
        `console build failed (${result.reason}); everything else runs without it. Its last lines:`,
        // npm's own "lifecycle script failed" lines say nothing the exit code does not.
        ...result.tail
          .filter((l) => l.trim() && !/^npm (error|ERR!|warn)/.test(l))
          .slice(-8)
          .map((l) => `    ${l}`),
        '  Fix web/ and run `npm run build:web`: the gateway serves web/dist as soon as it exists.',
      ].join('\n'),
    );
  });
  return () => state;
}

/** Services first (they drain their jobs), then Redis and PostgreSQL, which were started detached for this. */
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // An unfinished console build is not wanted any more; it must not outlive npm start either.
  consoleBuild?.stop();
  if (children.size) say('stopping services…');
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all([...[...children.values()].map((c) => waitForExit(c, 30_000)), consoleBuild?.done]);
  for (const d of deps.reverse()) await d.stop().catch(() => undefined);
  say('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const dataDir = path.join(ROOT, '.data');
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  const consoleState = ensureConsole();

  const pg = await ensurePostgres(process.env, dataDir);
  deps.push(pg);
  say(`PostgreSQL: ${pg.description}`);
  const redis = await ensureRedis(process.env, dataDir);
  deps.push(redis);
  say(`Redis: ${redis.description}`);

  const db = createDatabase({ url: pg.url, poolMax: 1 });
  const { applied, memoryPath } = await migrateLatest(db, say)
    .then(async (names) => ({ applied: names, memoryPath: await detectMemorySearchPath(db) }))
    .finally(() => db.destroy());
  say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');
  say(
    memoryPath === 'pgvector'
      ? 'memory search: pgvector (HNSW index)'
      : 'memory search: exact scan (this PostgreSQL has no pgvector; fine for small memories)',
  );

  const port = await freePort(Number(process.env.PORT ?? 8000));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENVIRONMENT: process.env.ENVIRONMENT ?? 'development',
    DATABASE_URL: pg.url,
    // Cluster mode (REDIS_CLUSTER_NODES, passed on as it is) has no single Redis URL.
    ...(redis.url ? { REDIS_URL: redis.url } : {}),
    PORT: String(port),
    AGENT_RUNNER_PORT: String(await freePort(8101)),
    SEEDER_PORT: String(await freePort(8102)),
    COST_LEDGER_PORT: String(await freePort(8103)),
    MIGRATE_ON_START: 'false',
  };
  for (const name of SERVICES) {
    const child = spawnService(name, env);
    children.set(name, child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      say(`${name} exited unexpectedly (${signal ?? code}); stopping the stack`);
      void stopAll(1);
    });
  }

  const api = `http://127.0.0.1:${port}`;
  await waitForHttp(`${api}/health/live`, 60_000);
  // The banner uses the same settings the children parse (development defaults unless overridden).
  process.env.DATABASE_URL = pg.url;
  if (redis.url) process.env.REDIS_URL = redis.url;
  const settings = getSettings();
  const userId = randomUUID();
  const token = await mintDevToken({
    userId,
    secret: settings.supabaseJwtSecret,
    audience: settings.jwtAudience,
  });
  process.stdout.write(
    [
      '',
      '  RaptorFlow is running',
      `  API:            ${api}   (health: ${api}/health)`,
      `  Bull Board:     ${api}/admin/queues   (user ${settings.bullBoard.username}, password ${settings.bullBoard.password})`,
      `  API docs:       ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
      `  Console:        ${api}/${consoleState()}`,
      `  Dev user:       ${userId}`,
      `  Dev JWT (12h):  ${token}`,
      '',
      `  export TOKEN=${token}`,
      `  curl -s -X POST ${api}/v1/workspaces -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Acme"}'`,
      `  curl -s ${api}/v1/agents -H "Authorization: Bearer $TOKEN"`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  void stopAll(1);
});
