import { runCancelChannel } from '@raptorflow/data/runs/run-events';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Redis } from '@raptorflow/core/redis/redis.factory';

export type AbortReason = 'cancelled' | 'timeout' | 'lease_lost' | 'shutdown';

/**
 * The AbortControllers of the runs this process executes, and the Redis subscription that fires them when
 * `POST /v1/agent-runs/:id/cancel` is handled by any gateway replica. A missed message is covered by the
 * lease renewal, which also reads `cancel_requested_at`.
 */
export class RunControlRegistry {
  // A set per run: after a stall, the sweeper's requeue can hand the same run to a second slot of this very
  // process while the first attempt still winds down; each attempt has its own controller.
  private readonly controllers = new Map<string, Set<AbortController>>();
  private subscriber: Redis | undefined;
  private readonly logger: Logger;

  constructor(opts: { logger: Logger }) {
    this.logger = opts.logger;
  }

  /** Listens on the cancel channel of `prefix` (QUEUE_PREFIX) over `subscriber`, closed by close(). */
  async start(subscriber: Redis, prefix: string): Promise<void> {
    const channel = runCancelChannel(prefix);
    this.subscriber = subscriber;
    subscriber.on('message', (ch: string, runId: string) => {
      if (ch === channel) this.abort(runId, 'cancelled');
    });
    await subscriber.subscribe(channel);
  }

  register(runId: string): AbortController {
    const controller = new AbortController();
    const set = this.controllers.get(runId) ?? new Set<AbortController>();
    set.add(controller);
    this.controllers.set(runId, set);
    return controller;
  }

  unregister(runId: string, controller: AbortController): void {
    const set = this.controllers.get(runId);
    set?.delete(controller);
    if (set?.size === 0) this.controllers.delete(runId);
  }

  /** Aborts every attempt of the run this process executes (cancel, timeout, shutdown). */
  abort(runId: string, reason: AbortReason): boolean {
    let aborted = false;
    for (const controller of this.controllers.get(runId) ?? []) {
      if (controller.signal.aborted) continue;
      this.logger.info({ agent_run_id: runId, reason }, 'aborting run');
      controller.abort(reason);
      aborted = true;
    }
    return aborted;
  }

  abortAll(reason: AbortReason): void {
    for (const id of [...this.controllers.keys()]) this.abort(id, reason);
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }
}
