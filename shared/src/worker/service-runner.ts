import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import { getSettings } from '../config/settings';
import { closeDatabase, getDatabase } from '../db/database';
import { migrateLatest } from '../db/migrate';
import { HealthService } from '../health/health.service';
import { createLogger } from '../logging/logger';
import { closeRedisConnections, createRedis } from '../redis/redis.factory';
import { OutboxRelay } from '../bus/outbox-relay';
import { closeBus, getBus } from '../bus/raptor-bus';
import type { QueueName } from '../bus/event-catalog';
import { registerQueueDepth } from '../metrics/metrics';
import { startHealthServer } from './health-server';
import { ModelRouter } from '../llm/model-router';

export interface WorkerServiceOptions {
  service: string;
  port: number;
  /** The process's model router, for the alias table on /health; made from settings when omitted. */
  router?: ModelRouter;
  /** Builds the service's workers once the database is migrated. */
  start: () => Worker[] | Promise<Worker[]>;
  /** Runs first on SIGTERM/SIGINT, before the workers close (stop timers, abort long work). */
  beforeStop?: () => void | Promise<void>;
  /** Runs after the workers closed, before the shared connections close (the service's own pools). */
  afterStop?: () => void | Promise<void>;
}

/**
 * The shared main() of the three worker services: migrate (development), start workers and the health port,
 * and on SIGTERM/SIGINT let in-flight jobs finish within the grace period before handing them back.
 */
export async function runWorkerService(opts: WorkerServiceOptions): Promise<void> {
  const settings = getSettings();
  const logger = createLogger(opts.service);
  // Built before anything starts: a catalog or alias problem stops the service with every problem listed.
  const router = opts.router ?? new ModelRouter({ settings: settings.llm });
  for (const w of router.retirementWarnings())
    logger.warn(
      w,
      `model ${w.model} (${w.aliases.join(', ')}) retires on ${w.retires_on}: set its alias to a current model`,
    );
  const db = getDatabase();
  if (settings.migrateOnStart) await migrateLatest(db);
  const workers = await opts.start();
  registerQueueDepth(workers.map((w) => getBus().queue(w.name as QueueName)));
  // Every process runs a relay; an advisory lock lets one of them work at a time.
  const relay = new OutboxRelay();
  relay.start();
  const health = new HealthService({
    service: opts.service,
    db,
    redis: createRedis('client'),
    settings,
    models: () => router.aliasStatus(),
  });
  const server: Server = await startHealthServer(
    health,
    opts.port,
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
    await opts.afterStop?.();
    await relay.stop();
    await closeBus();
    await closeRedisConnections();
    await closeDatabase();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
