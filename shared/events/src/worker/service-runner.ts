import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import { getSettings } from '@raptorflow/core/config/settings';
import { closeDatabase, getDatabase } from '@raptorflow/core/db/database';
import { migrateLatest } from '@raptorflow/data/migrate';
import { HealthService } from '@raptorflow/core/health/health.service';
import type { AliasHealth } from '@raptorflow/core/health/health.service';
import { createLogger } from '@raptorflow/core/logging/logger';
import { closeRedisConnections, createRedis } from '@raptorflow/core/redis/redis.factory';
import { OutboxRelay } from '../bus/outbox-relay';
import { closeBus, getBus } from '../bus/raptor-bus';
import type { QueueName } from '../bus/event-catalog';
import { getMetrics, registerQueueDepth } from '@raptorflow/core/metrics/metrics';
import { DeadLetterService } from './dead-letter.service';
import { startHealthServer } from './health-server';
import type { WorkerRuntime } from './worker-runtime';
import type { TracingHandle } from '@raptorflow/core/telemetry/tracing';

export interface WorkerServiceOptions {
  service: string;
  port: number;
  /**
   * Builds the alias table shown on /health (the service's ModelRouter); called first, so a catalog or alias
   * problem stops start-up with every problem listed.
   */
  models: () => { aliasStatus(): AliasHealth[] };
  /**
   * Builds the service's workers once the database is migrated, each given the runtime built here: the queue
   * prefix, a Redis connection of its own per worker and the process's dead-letter service.
   */
  start: (runtime: WorkerRuntime) => Worker[] | Promise<Worker[]>;
  /** For a service that searches memory: the search path it detected in `start` (shown on /health). */
  memorySearchPath?: () => 'pgvector' | 'exact';
  /** Runs first on SIGTERM/SIGINT, before the workers close (stop timers, abort long work). */
  beforeStop?: () => void | Promise<void>;
  /** Runs after the workers closed, before the shared connections close (the service's own pools). */
  afterStop?: () => void | Promise<void>;
  /** The process's tracing (tracing.bootstrap.ts): flushed last, so the shutdown's own spans are sent too. */
  tracing: TracingHandle;
}

/**
 * The shared main() of the three worker services: migrate (development), start workers and the health port,
 * and on SIGTERM/SIGINT let in-flight jobs finish within the grace period before handing them back.
 */
export async function runWorkerService(opts: WorkerServiceOptions): Promise<void> {
  const settings = getSettings();
  const logger = createLogger(opts.service);
  const models = opts.models();
  const db = getDatabase();
  if (settings.migrateOnStart) await migrateLatest(db, (m) => logger.warn(m));
  // One dead-letter service for the process's workers: its small pool is opened only when a job dies, and
  // closed here once the workers are (never by a worker).
  const deadLetters = new DeadLetterService({
    databaseUrl: settings.databaseUrl,
    logger: createLogger(`${opts.service}:dead-letters`),
  });
  const workers = await opts.start({
    prefix: settings.queuePrefix,
    connection: () => createRedis('worker'),
    deadLetters,
  });
  registerQueueDepth(workers.map((w) => getBus().queue(w.name as QueueName)));
  // Every process runs a relay; an advisory lock lets one of them work at a time.
  const relay = new OutboxRelay({
    db,
    bus: getBus(),
    intervalMs: settings.outbox.relayIntervalMs,
    retentionHours: settings.outbox.retentionHours,
  });
  relay.start();
  const health = new HealthService({
    service: opts.service,
    db,
    redis: createRedis('client'),
    settings,
    models: () => models.aliasStatus(),
    memorySearchPath: opts.memorySearchPath?.(),
  });
  const server: Server = await startHealthServer(
    health,
    opts.port,
    getMetrics().registry,
    () => ({
      queues: workers.map((w) => ({ name: w.name, running: w.isRunning(), paused: w.isPaused() })),
    }),
    { token: settings.metricsToken, isProduction: settings.isProduction },
  );
  logger.info(
    { port: (server.address() as { port: number }).port, queues: workers.map((w) => w.name) },
    `${opts.service} ready`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight jobs');
    await opts.beforeStop?.();
    const graceful = Promise.all(workers.map((w) => w.close()));
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), settings.shutdownGraceMs).unref()),
    ]);
    if (timedOut) {
      // Force-close: unfinished jobs lose their locks and are picked up again as stalled jobs elsewhere.
      logger.warn('grace period over; handing unfinished jobs back to the queue');
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    }
    server.close();
    await deadLetters.close().catch((err: unknown) => logger.warn({ err }, 'dead-letter pool did not close'));
    await opts.afterStop?.();
    await relay.stop();
    await closeBus();
    await closeRedisConnections();
    await closeDatabase();
    await opts.tracing.shutdown();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
