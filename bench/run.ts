// npm run bench [-- gateway|tracing|bus|events|dispatch|agent-runs|ledger|soak|memory|console] — every figure is printed beside a baseline measured in the same run.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ROOT, ensurePostgres, ensureRedis } from '../scripts/lib/local-stack';

async function main(): Promise<void> {
  const only = process.argv[2];
  const pg = await ensurePostgres(process.env, path.join(ROOT, '.data', 'bench'), 'postgres');
  const redis = await ensureRedis(process.env, path.join(ROOT, '.data', 'bench'));
  const dbName = `raptorflow_bench_${Date.now().toString(36)}`;
  const dbUrl = new URL(pg.url);
  dbUrl.pathname = `/${dbName}`;
  // Settings are parsed lazily: set the environment before the first getSettings() (the dynamic imports).
  Object.assign(process.env, {
    ENVIRONMENT: 'test',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    REDIS_URL: redis.url,
    DATABASE_URL: dbUrl.toString(),
    QUEUE_PREFIX: `{rfbench-${randomUUID().slice(0, 8)}}`,
    MIGRATE_ON_START: 'false',
    // The limiter still runs (two Redis round trips per request); only its ceiling is out of the way.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '1000000',
  });
  const { createDatabase } = await import('@raptorflow/core/db/database');
  const { getSettings } = await import('@raptorflow/core/config/settings');
  const { migrateLatest } = await import('@raptorflow/data/migrate');
  const { closeRedisConnections } = await import('@raptorflow/core/redis/redis.factory');
  const root = createDatabase({ url: pg.url, poolMax: 1 });
  await root.raw(`CREATE DATABASE ${dbName}`);
  const db = createDatabase({ url: getSettings().databaseUrl, poolMax: 10 });
  const lines: string[] = [];
  try {
    await migrateLatest(db);
    const settings = getSettings();
    if (!only || only === 'gateway') {
      const { runGatewayBench } = await import('./gateway.bench');
      lines.push(
        ...(await runGatewayBench({
          db,
          env: { ...process.env },
          secret: settings.supabaseJwtSecret,
          audience: settings.jwtAudience,
        })),
      );
    }
    if (!only || only === 'tracing') {
      const { runTracingBench } = await import('./tracing.bench');
      lines.push(
        ...(await runTracingBench({
          db,
          env: { ...process.env },
          secret: settings.supabaseJwtSecret,
          audience: settings.jwtAudience,
        })),
      );
    }
    if (!only || only === 'bus') {
      const { runBusBench } = await import('./bus.bench');
      lines.push(...(await runBusBench(db)));
    }
    if (!only || only === 'events') {
      const { runEventsBench } = await import('./events.bench');
      lines.push(...(await runEventsBench(db)));
    }
    if (!only || only === 'dispatch') {
      const { runDispatchBench } = await import('./dispatch.bench');
      lines.push(...(await runDispatchBench()));
    }
    if (!only || only === 'agent-runs') {
      const { runAgentRunsBench } = await import('./agent-runs.bench');
      lines.push(...(await runAgentRunsBench(db)));
    }
    if (!only || only === 'ledger') {
      const { runLedgerBench } = await import('./ledger.bench');
      lines.push(...(await runLedgerBench(db)));
    }
    if (!only || only === 'soak') lines.push(...(await (await import('./soak.bench')).runSoakBench(db)));
    if (!only || only === 'memory')
      lines.push(...(await (await import('./memory.bench')).runMemoryBench(db)));
    if (!only || only === 'console')
      lines.push(...(await (await import('./console.bench')).runConsoleBench()));
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  } finally {
    await closeRedisConnections();
    await db.destroy();
    await root.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await root.destroy();
    await redis.stop();
    await pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
