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
  private readonly controllers = new Map<string, AbortController>();
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
    this.controllers.set(runId, controller);
    return controller;
  }

  unregister(runId: string): void {
    this.controllers.delete(runId);
  }

  abort(runId: string, reason: AbortReason): boolean {
    const controller = this.controllers.get(runId);
    if (!controller || controller.signal.aborted) return false;
    this.logger.info({ agent_run_id: runId, reason }, 'aborting run');
    controller.abort(reason);
    return true;
  }

  abortAll(reason: AbortReason): void {
    for (const id of this.controllers.keys()) this.abort(id, reason);
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }
}
