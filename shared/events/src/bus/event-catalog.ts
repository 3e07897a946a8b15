import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

/**
 * The one list of RaptorBus events. Producers are typed from it, workers are checked against it (a worker
 * must handle every event of its queue), and the gateway/OpenAPI reuse its schemas.
 *
 * Queue names are part of the on-disk contract (Redis keys, Bull Board, dashboards): never rename one.
 */
export const QUEUE_NAMES = Object.freeze(['workspace', 'agent', 'cost', 'system', 'notify'] as const);
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Largest event payload (serialized JSON) a publish accepts; above it the publish is refused with 413. */
export const MAX_EVENT_PAYLOAD_BYTES = 64 * 1024;

/**
 * Retry policy shared by every job unless an event overrides it: 5 tries over ~30 s, with jitter.
 * Redis holds every kept job in memory, so kept jobs are bounded by age AND count per queue: a completed job
 * stays an hour (at most 1,000 per queue: ≤ 64 MiB even at the payload cap, ~1 MiB for typical events); a
 * failed one a week (at most 5,000 per queue) for the dead-letter tools — its envelope also stays in the
 * `event_outbox` table, which is what a replay reads once Redis has trimmed the job.
 */
export const DEFAULT_JOB_OPTIONS = Object.freeze({
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
} satisfies JobsOptions);

/** The services that run workers; each event is consumed by exactly one of them (a test checks the code). */
export const CONSUMER_SERVICES = Object.freeze(['seeder', 'agent-runner', 'cost-ledger'] as const);
export type ConsumerService = (typeof CONSUMER_SERVICES)[number];

export interface EventDefinition<Q extends QueueName = QueueName, S extends z.ZodType = z.ZodType> {
  queue: Q;
  /** The one service whose worker handles it (services/<consumer>/src). */
  consumer: ConsumerService;
  schema: S;
  description: string;
  jobOptions?: JobsOptions;
}

const uuid = z.uuid();
const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal string');

function defineEvent<Q extends QueueName, S extends z.ZodType>(def: EventDefinition<Q, S>) {
  return def;
}

export const EVENT_CATALOG = {
  'workspace.created': defineEvent({
    queue: 'workspace',
    consumer: 'seeder',
    description: 'A workspace was created; the seeder gives it the seven Lords.',
    schema: z.object({ workspace_id: uuid, name: z.string().min(1).max(200), created_by: uuid }),
  }),
  'agent.run.requested': defineEvent({
    queue: 'agent',
    consumer: 'agent-runner',
    description: 'A client asked an agent of the Council to run; the agent-runner executes it.',
    schema: z.object({ agent_run_id: uuid, agent_key: z.string().min(1).max(64) }),
    // A retried run can pay the LLM twice: fewer, slower attempts than the default.
    jobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 } },
  }),
  'schedule.tick': defineEvent({
    queue: 'agent',
    consumer: 'agent-runner',
    description:
      "A schedule's cron fired (a BullMQ job scheduler per schedule); the agent-runner creates its run once per " +
      'tick (or skips it, audited, while the workspace budget is paused or spent).',
    schema: z.object({ schedule_id: uuid }),
  }),
  'cost.recorded': defineEvent({
    queue: 'cost',
    consumer: 'cost-ledger',
    description: 'A model call was billed; the cost-ledger folds it into the rollups.',
    schema: z.object({ cost_log_id: uuid, model: z.string().min(1), cost_usd: decimalString }),
  }),
  'ledger.reconcile.requested': defineEvent({
    queue: 'cost',
    consumer: 'cost-ledger',
    description:
      'Recompute the rollups of the given UTC month (default: this one and the last) from cost_logs, correct ' +
      'drift, reclaim expired budget reservations. Scheduled hourly by the cost-ledger.',
    schema: z.object({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
        .optional(),
    }),
    jobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 10_000, jitter: 0.5 } },
  }),
  'budget.alert.fired': defineEvent({
    queue: 'notify',
    consumer: 'cost-ledger',
    description:
      "A workspace's month spend crossed 50, 80 or 100 % of its budget; the cost-ledger POSTs the signed " +
      'webhook (when BUDGET_ALERT_WEBHOOK_URL is set), retried with backoff on its own queue.',
    schema: z.object({
      alert_id: uuid,
      month: z.string().regex(/^\d{4}-\d{2}$/),
      threshold_percent: z.number().int().min(1).max(1_000),
      spent_usd: decimalString,
      budget_usd: decimalString,
    }),
    // ~1, 2, 4 … 256 s: a receiver down for minutes still gets the alert.
    jobOptions: { attempts: 10, backoff: { type: 'exponential', delay: 1_000, jitter: 0.3 } },
  }),
  'test.event': defineEvent({
    queue: 'system',
    consumer: 'seeder',
    description: 'Smoke event: the seeder writes one audit row per event id.',
    schema: z.object({
      message: z.string().max(1_000).optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
} as const;

export type EventCatalog = typeof EVENT_CATALOG;
export type EventType = keyof EventCatalog;
export type EventPayload<E extends EventType> = z.output<EventCatalog[E]['schema']>;
export type EventsOfQueue<Q extends QueueName> = {
  [E in EventType]: EventCatalog[E]['queue'] extends Q ? E : never;
}[EventType];

export const EVENT_TYPES = Object.freeze(Object.keys(EVENT_CATALOG) as EventType[]);

export function isEventType(name: string): name is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOG, name);
}

export function eventsOfQueue<Q extends QueueName>(queue: Q): EventsOfQueue<Q>[] {
  return EVENT_TYPES.filter((e) => EVENT_CATALOG[e].queue === queue) as EventsOfQueue<Q>[];
}

export function jobOptionsFor(event: EventType): JobsOptions {
  const def: EventDefinition = EVENT_CATALOG[event];
  return { ...DEFAULT_JOB_OPTIONS, ...def.jobOptions };
}

/** Job names come from Redis; anything outside the catalog shares one label value to bound cardinality. */
export function eventLabel(name: string | undefined): string {
  return name && isEventType(name) ? name : 'unknown';
}
