import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process (SPEC §12). Made on first use rather than at import, so code that never
 * scrapes (unit tests, scripts) does not start the default collectors' event-loop monitor.
 */

export type JobOutcome = 'completed' | 'failed' | 'retried' | 'dead';
export type QueueState = 'waiting' | 'active' | 'delayed' | 'failed' | 'completed';
export const QUEUE_STATES: readonly QueueState[] = ['waiting', 'active', 'delayed', 'failed', 'completed'];

/** What the depth gauge needs from a BullMQ Queue (a structural type keeps fakes easy in tests). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: QueueState[]): Promise<Record<string, number>>;
}

export interface RaptorMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  jobDuration: Histogram<'queue' | 'event' | 'outcome'>;
  jobsTotal: Counter<'queue' | 'event' | 'outcome'>;
  deadLettersTotal: Counter<'queue' | 'event'>;
  queueJobs: Gauge<'queue' | 'state'>;
  llmCallsTotal: Counter<'provider' | 'model' | 'outcome'>;
  llmCallDuration: Histogram<'provider' | 'model' | 'outcome'>;
  llmTokensTotal: Counter<'provider' | 'model' | 'kind'>;
  llmCostUsdTotal: Counter<'provider' | 'model'>;
  budgetRejectionsTotal: Counter;
  budgetAlertsTotal: Counter<'threshold'>;
  ledgerCorrectionsTotal: Counter<'period'>;
  webhookDeliveriesTotal: Counter<'outcome'>;
  runQueueWait: Histogram<'flow'>;
  runDuration: Histogram<'flow' | 'outcome'>;
}

/** A scrape must answer even when Redis does not: depth is skipped after this long. */
const QUEUE_DEPTH_TIMEOUT_MS = 2_000;

let metrics: RaptorMetrics | undefined;
const depthQueues = new Set<CountableQueue>();

export function getMetrics(): RaptorMetrics {
  metrics ??= buildMetrics();
  return metrics;
}

function buildMetrics(): RaptorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const queueJobs = new Gauge({
    name: 'raptorflow_queue_jobs',
    help: 'Jobs per BullMQ queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      await collectQueueDepth(this);
    },
  });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'raptorflow_http_request_duration_seconds',
      help: 'HTTP request latency by method, matched route pattern (or "unmatched") and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'raptorflow_job_duration_seconds',
      help: 'Handler time of one job attempt, by queue, event and outcome',
      labelNames: ['queue', 'event', 'outcome'] as const,
      // Agent runs call LLMs for minutes; seeding and folds take milliseconds.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    jobsTotal: new Counter({
      name: 'raptorflow_jobs_total',
      help:
        'Job attempts by outcome: completed; retried (failed, another attempt follows); failed (refused for ' +
        'good without retry: invalid event or domain error); dead (failed after its last attempt)',
      labelNames: ['queue', 'event', 'outcome'] as const,
      registers: [registry],
    }),
    deadLettersTotal: new Counter({
      name: 'raptorflow_dead_letters_total',
      help: 'Events that failed for good and were recorded as dead letters (replayable by event id)',
      labelNames: ['queue', 'event'] as const,
      registers: [registry],
    }),
    queueJobs,
    llmCallsTotal: new Counter({
      name: 'raptorflow_llm_calls_total',
      help: 'Model dispatches by provider, model and outcome (success, failed, cancelled)',
      labelNames: ['provider', 'model', 'outcome'] as const,
      registers: [registry],
    }),
    llmCallDuration: new Histogram({
      name: 'raptorflow_llm_call_duration_seconds',
      help: 'Model dispatch latency, retries and fallbacks included',
      labelNames: ['provider', 'model', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    llmTokensTotal: new Counter({
      name: 'raptorflow_llm_tokens_total',
      help: 'Tokens billed by provider, model and kind (input, cached_input, cache_write, output, thinking)',
      labelNames: ['provider', 'model', 'kind'] as const,
      registers: [registry],
    }),
    llmCostUsdTotal: new Counter({
      name: 'raptorflow_llm_cost_usd_total',
      help: 'USD spent by provider and model (the exact figures are in cost_logs; this is for dashboards)',
      labelNames: ['provider', 'model'] as const,
      registers: [registry],
    }),
    budgetRejectionsTotal: new Counter({
      name: 'raptorflow_budget_rejections_total',
      help: 'Model dispatches refused with 402 because the workspace budget could not take their worst case',
      registers: [registry],
    }),
    budgetAlertsTotal: new Counter({
      name: 'raptorflow_budget_alerts_total',
      help: 'Budget alerts fired (each workspace, month and threshold fires once)',
      labelNames: ['threshold'] as const,
      registers: [registry],
    }),
    ledgerCorrectionsTotal: new Counter({
      name: 'raptorflow_ledger_corrections_total',
      help: 'Rollup rows reconciliation had to correct (drift from cost_logs), by period',
      labelNames: ['period'] as const,
      registers: [registry],
    }),
    webhookDeliveriesTotal: new Counter({
      name: 'raptorflow_webhook_deliveries_total',
      help: 'Budget alert webhook attempts by outcome (delivered, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    runQueueWait: new Histogram({
      name: 'raptorflow_run_queue_wait_seconds',
      help: 'Agent run wait from request (created_at) to its first claim by a runner, by flow',
      labelNames: ['flow'] as const,
      // A free runner claims within a second; a workspace at its concurrency cap waits for whole runs.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'raptorflow_run_duration_seconds',
      help: 'Agent run time from first claim to its final status, by flow and outcome (completed, failed, cancelled)',
      labelNames: ['flow', 'outcome'] as const,
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200],
      registers: [registry],
    }),
  };
}

/**
 * Adds queues to the depth gauge of this process; returns a function that removes them again. Several
 * processes may report the same queue (the gateway and its worker): aggregate with max by (queue, state).
 */
export function registerQueueDepth(queues: Iterable<CountableQueue>): () => void {
  getMetrics();
  const added = [...queues].filter((q) => !depthQueues.has(q));
  for (const q of added) depthQueues.add(q);
  return () => {
    for (const q of added) depthQueues.delete(q);
  };
}

async function collectQueueDepth(gauge: Gauge<'queue' | 'state'>): Promise<void> {
  // Reset first: a queue that could not be read shows no value rather than a stale one.
  gauge.reset();
  await Promise.all(
    [...depthQueues].map(async (q) => {
      try {
        const counts = await withTimeout(q.getJobCounts(...QUEUE_STATES), QUEUE_DEPTH_TIMEOUT_MS);
        for (const state of QUEUE_STATES) gauge.set({ queue: q.name, state }, counts[state] ?? 0);
      } catch {
        /* Redis unreachable: the health endpoints report it; the scrape still answers */
      }
    }),
  );
}

/** Bounds a scrape-time read: a scrape must answer even when a dependency hangs. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Records one finished job attempt; durationSeconds is undefined when this process did not run it. `event` must
 * already be a bounded label (the event catalog's `eventLabel`): job names come from Redis.
 */
export function observeJob(
  queue: string,
  event: string,
  outcome: JobOutcome,
  durationSeconds?: number,
): void {
  const m = getMetrics();
  const labels = { queue, event, outcome };
  m.jobsTotal.inc(labels);
  if (durationSeconds !== undefined) m.jobDuration.observe(labels, durationSeconds);
}

/**
 * Serves the Prometheus text format. Typed on node's http types so the same handler fits a worker's plain
 * health server and an Express route.
 */
export function metricsHandler(reg: Registry): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    try {
      const body = await reg.metrics();
      res.writeHead(200, { 'content-type': reg.contentType, 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('# metrics collection failed\n');
    }
  };
}
