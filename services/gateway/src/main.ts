// First: tracing must start before the modules it instruments are loaded.
import { tracing } from './tracing.bootstrap';
import { createGatewayServer } from './http/request-shape';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { startupModelRouter } from '@raptorflow/llm/model-router.factory';
import { OutboxRelay } from '@raptorflow/events/bus/outbox-relay';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { registerQueueDepth } from '@raptorflow/core/metrics/metrics';
import { registerModelRetirement, registerOutboxLag } from '@raptorflow/core/metrics/scrape-gauges';
import { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import { closeBus, getBus } from '@raptorflow/events/bus/raptor-bus';
import { closeDatabase, getDatabase } from '@raptorflow/core/db/database';
import { closeRedisConnections, createRedis } from '@raptorflow/core/redis/redis.factory';
import { createLogger } from '@raptorflow/core/logging/logger';
import { getSettings } from '@raptorflow/core/config/settings';
import { migrateLatest } from '@raptorflow/data/migrate';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { createApp, whenReady } from './app';
import { answerClientErrors } from './edge/client-error.handler';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';

async function main(): Promise<void> {
  const settings = getSettings();
  const logger = createLogger('gateway');
  const db = getDatabase();
  if (settings.migrateOnStart) await migrateLatest(db, (m) => logger.warn(m));
  const memoryPath = await detectMemorySearchPath(db);
  logger.info(
    { memory_search_path: memoryPath },
    `memory search: ${memoryPath === 'pgvector' ? 'pgvector HNSW index' : 'exact scan (no pgvector on this database)'}`,
  );
  // Built first: a catalog or alias problem stops start-up with every problem listed.
  const router = startupModelRouter(settings.llm, logger);
  const app = createApp({
    settings,
    db,
    bus: getBus(),
    redis: createRedis('client'),
    logger,
    router,
    memoryPath,
    // Three levels up from src/ (tsx) and from dist/ (the bundle) alike: the repository root, /app in the image.
    consoleDir: path.resolve(__dirname, '../../../web/dist'),
  });
  if (!(await whenReady(app)))
    logger.warn('cache invalidations not subscribed yet; serving anyway (TTLs bound staleness)');
  registerQueueDepth(QUEUE_NAMES.map((n) => getBus().queue(n)));
  // Read at each scrape: how far the outbox is behind, and how long the configured models have left.
  const outbox = new EventOutboxRepository(db);
  registerOutboxLag(() => outbox.oldestPendingAgeSeconds());
  registerModelRetirement(() => router.retirementDays());
  const relay = new OutboxRelay({
    db,
    bus: getBus(),
    intervalMs: settings.outbox.relayIntervalMs,
    retentionHours: settings.outbox.retentionHours,
  });
  relay.start();
  // Run event streams never finish by themselves; on shutdown they are ended at once so their clients
  // reconnect (with Last-Event-ID) to another replica instead of holding this one for the grace period.
  // Tracked before Express sees the request (its routers rewrite req.url).
  const streams = new Set<ServerResponse>();
  const server = createGatewayServer((req, res) => {
    if (/^\/v1\/agent-runs\/[^/?]+\/events/.test(req.url ?? '')) {
      streams.add(res);
      res.on('close', () => streams.delete(res));
    }
    app(req, res);
  });
  // Oversized headers and malformed requests never reach Express: answer them in the error shape too.
  answerClientErrors(server, { logger });
  server.listen(settings.port, () => logger.info({ port: settings.port }, 'gateway listening'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway shutting down');
    server.close(async () => {
      await relay.stop();
      await closeBus();
      await closeRedisConnections();
      await closeDatabase();
      await tracing.shutdown();
      process.exit(0);
    });
    // Keep-alive sockets would hold close() open forever.
    server.closeIdleConnections();
    for (const res of streams) res.end();
    setTimeout(() => process.exit(0), settings.shutdownGraceMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // ConfigError messages list every problem; print them as they are.
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
