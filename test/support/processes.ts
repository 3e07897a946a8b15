import type { Knex } from 'knex';
import { openStack } from './stack';
import type { TestStack } from './stack';
import { getSettings } from '@raptorflow/core/config/settings';
import { freePort } from '../../scripts/lib/local-stack';
import { spawnService, waitForExit, waitForHttp } from '../../scripts/lib/service-process';
import type { ServiceName } from '../../scripts/lib/service-process';

/**
 * Services as real child processes for fault tests (SIGKILL, SIGTERM, Redis outages): each started on a free
 * port, over the test file's database, Redis and queue prefix, and every one stopped by `stopAll()`.
 */
export type ServiceProcess = ReturnType<typeof spawnService>;

export const PORT_VARIABLE: Record<ServiceName, string> = {
  gateway: 'PORT',
  seeder: 'SEEDER_PORT',
  'agent-runner': 'AGENT_RUNNER_PORT',
  'cost-ledger': 'COST_LEDGER_PORT',
};

/**
 * Worker locks, stall checks and run leases short enough that a killed or stalled runner's run is taken over
 * within seconds: for the tests that kill, stall or cancel runners and wait for the recovery.
 */
export const FAST_RECOVERY_ENV: Readonly<Record<string, string>> = {
  WORKER_LOCK_DURATION_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  AGENT_RUN_LEASE_MS: '1500',
};

/** The environment of a service started by a test: the test's database, Redis and queue prefix, JSON logs. */
export function serviceEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const s = getSettings();
  return {
    ...process.env,
    ENVIRONMENT: 'test',
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: s.queuePrefix,
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ...overrides,
  };
}

export function hasExited(child: ServiceProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The last lines a service wrote (captured output), for failure messages. */
export function outputTail(child: ServiceProcess, lines = 40): string {
  return child.output.slice(-lines).join('\n');
}

/** Races `work` against the child's exit: a service that dies early fails the test at once, with its output. */
export async function whileAlive<T>(name: string, child: ServiceProcess, work: Promise<T>): Promise<T> {
  const describe = () =>
    `${name} exited (${child.exitCode ?? child.signalCode}) unexpectedly:\n${outputTail(child)}`;
  if (hasExited(child)) throw new Error(describe());
  let onExit = () => undefined as void;
  const died = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(describe()));
    child.once('exit', onExit);
  });
  try {
    return await Promise.race([work, died]);
  } finally {
    child.off('exit', onExit);
  }
}

export interface RunningService {
  name: ServiceName;
  child: ServiceProcess;
  /** http://127.0.0.1:<port> of the gateway's API or the worker's health port. */
  url: string;
}

export class ServiceGroup {
  private readonly children: ServiceProcess[] = [];
  private settled = false;

  /**
   * `db` is this jest worker's database. Earlier test files in the same worker may have left outbox rows
   * pending on purpose (Redis-down tests); the services' outbox relay would deliver them into this file's
   * queues, so they are marked delivered before the first service starts.
   */
  constructor(private readonly db?: Knex) {}

  /** Spawns the service on a free port; does not wait for it (see `ready`). */
  async spawn(name: ServiceName, env: NodeJS.ProcessEnv): Promise<RunningService> {
    if (this.db && !this.settled) {
      this.settled = true;
      await this.db('event_outbox').whereNull('enqueued_at').update({ enqueued_at: this.db.fn.now() });
    }
    const port = await freePort();
    const child = spawnService(name, { ...env, [PORT_VARIABLE[name]]: String(port) }, 'capture');
    this.children.push(child);
    return { name, child, url: `http://127.0.0.1:${port}` };
  }

  /** Resolves once the service answers /health/live; rejects with its output if it exits or hangs. */
  async ready(service: RunningService, timeoutMs = 45_000): Promise<RunningService> {
    await whileAlive(service.name, service.child, waitForHttp(`${service.url}/health/live`, timeoutMs));
    return service;
  }

  async start(name: ServiceName, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunningService> {
    return this.ready(await this.spawn(name, env), timeoutMs);
  }

  /** SIGTERM to every child still running (SIGKILL after graceMs), in reverse start order. */
  async stopAll(graceMs = 15_000): Promise<void> {
    const running = this.children.filter((c) => !hasExited(c)).reverse();
    for (const c of running) c.kill('SIGTERM');
    await Promise.all(running.map((c) => waitForExit(c, graceMs)));
  }
}

/** Runs fn over items in sequential batches of `size` parallel calls (keeps the connection pools busy, not flooded). */
export async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  return out;
}

/**
 * This file's stack (database, Redis, bus) and a group of service processes, both torn down after the file's
 * tests (services first, so nothing writes to a closed stack).
 */
export function useServices(): { stack: TestStack; services: ServiceGroup } {
  const stack = openStack();
  const services = new ServiceGroup(stack.db);
  afterAll(async () => {
    await services.stopAll();
    await stack.close();
  }, 60_000);
  return { stack, services };
}
