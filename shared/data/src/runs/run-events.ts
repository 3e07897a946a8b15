import type { Knex } from 'knex';
import { getLogger } from '@raptorflow/core/logging/logger';
import { AgentRunEventRepository } from '../repositories/agent-run-event.repository';
import type { AgentRunEventRow, RunEventType } from '../repositories/agent-run.rows';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import type { Redis } from '@raptorflow/core/redis/redis.factory';

/**
 * A run's progress log. Each event is a row (its id is the SSE event id, so a client reconnecting with
 * Last-Event-ID gets exactly what it missed); a Redis PUBLISH of the run id then wakes whoever streams the run.
 * Redis carries no data, only the nudge: a lost message delays a stream until its next poll, never reorders
 * or loses an event.
 */
export type RunEventRow = Pick<AgentRunEventRow, 'id' | 'run_id' | 'type' | 'data' | 'created_at'>;

/** The pub/sub channels, under the queue prefix so test runs and deployments sharing a Redis stay apart. */
export function runEventsChannel(prefix: string): string {
  return `${prefix}:run-events`;
}

/**
 * The channel of streamed model text (`step.delta`): live only, never stored, so a replay shows the final
 * text of `step.completed` instead. Published on the same connection as the wakes, so a stream gets a step's
 * last delta before the wake that brings its `step.completed`.
 */
export function runDeltasChannel(prefix: string): string {
  return `${prefix}:run-deltas`;
}

/** One `step.delta` message: the text a step's model call streamed since the previous one. */
export interface RunDelta {
  run_id: string;
  step: string;
  /** 1 for the answer, 2 for its repair: a client shows the repair's text in place of the first. */
  attempt: number;
  text: string;
  at: string;
}

export function runCancelChannel(prefix: string): string {
  return `${prefix}:run-cancel`;
}

export interface RunEventLogOptions {
  db: Knex;
  /** Publishing connection (fail-fast); made on first use when omitted. */
  redis?: Redis;
  prefix: string;
}

export class RunEventLog {
  private readonly events: AgentRunEventRepository;
  private redis: Redis | undefined;
  private readonly channel: string;
  private readonly deltas: string;

  constructor(opts: RunEventLogOptions) {
    this.events = new AgentRunEventRepository(opts.db);
    this.redis = opts.redis;
    this.channel = runEventsChannel(opts.prefix);
    this.deltas = runDeltasChannel(opts.prefix);
  }

  /** Publishes streamed text to the run's live streams; best effort (the final text is in step.completed). */
  publishDelta(run: { id: string }, delta: { step: string; attempt: number; text: string }): void {
    const message: RunDelta = { run_id: run.id, ...delta, at: new Date().toISOString() };
    this.redis ??= createRedis('producer');
    this.redis.publish(this.deltas, JSON.stringify(message)).catch((err: unknown) => {
      getLogger().debug({ err, run_id: run.id }, 'step delta not published (Redis)');
    });
  }

  /** Appends an event; inside `trx` it becomes visible (and is announced) only once that commits. */
  async append(
    run: { id: string; workspace_id: string },
    type: RunEventType,
    data: Record<string, unknown>,
    trx?: Knex.Transaction,
  ): Promise<number> {
    const id = await this.events.append(run, type, data, trx);
    const announce = () => this.announce(run.id);
    if (trx) void trx.executionPromise.then(announce, () => undefined);
    else announce();
    return id;
  }

  /** Events of a run after `afterId`, oldest first. */
  async since(runId: string, afterId = 0, limit = 500): Promise<RunEventRow[]> {
    return this.events.since(runId, afterId, limit);
  }

  /** Wakes the run's streams: for events appended by another statement (a run step's), once it committed. */
  announce(runId: string): void {
    this.redis ??= createRedis('producer');
    this.redis.publish(this.channel, runId).catch((err: unknown) => {
      getLogger().debug({ err, run_id: runId }, 'run event not announced (Redis); streams poll');
    });
  }
}
