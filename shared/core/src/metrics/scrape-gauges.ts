import { Gauge } from 'prom-client';
import { getMetrics, withTimeout } from './metrics';

/**
 * Gauges read from their source at scrape time, registered only by the service that owns the data (the
 * gateway reads the outbox, the cost-ledger the budgets), so a series is never reported by a process that
 * cannot know it. Each `register*` returns a function that removes the gauge again.
 */

/** One workspace's share of its month's budget already spent (1 = the whole budget). */
export interface WorkspaceUtilisation {
  workspaceId: string;
  ratio: number;
}

/** A model configured in an alias chain, and whole days until its provider retires it (Infinity: no date). */
export interface ModelRetirement {
  alias: string;
  model: string;
  days: number;
}

/**
 * How many workspaces the utilisation gauge shows: a label per workspace is unbounded, the top of the list is
 * what an operator acts on (the full list is `GET /v1/costs/summary` per workspace).
 */
export const BUDGET_UTILISATION_TOP_N = 10;

/** A scrape must answer even when PostgreSQL does not: the read is abandoned after this long. */
const SCRAPE_READ_TIMEOUT_MS = 2_000;

interface Sample<L extends string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

function registerScrapeGauge<L extends string>(
  spec: { name: string; help: string; labelNames: readonly L[] },
  read: () => Promise<Sample<L>[]> | Sample<L>[],
): () => void {
  const { registry } = getMetrics();
  if (registry.getSingleMetric(spec.name)) throw new Error(`${spec.name} is already registered`);
  new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    async collect() {
      // Reset first: a workspace that left the top N, or a model no longer configured, must vanish.
      this.reset();
      try {
        const samples = await withTimeout(Promise.resolve().then(read), SCRAPE_READ_TIMEOUT_MS);
        for (const s of samples) this.set(s.labels as never, s.value);
      } catch {
        // An unlabelled gauge would read 0 after reset, which looks healthy: NaN says "unknown" instead.
        if (spec.labelNames.length === 0) this.set(Number.NaN);
      }
    },
  });
  return () => registry.removeSingleMetric(spec.name);
}

/** `read` gives the age in seconds of the oldest outbox row not yet handed to Redis (0 when none waits). */
export function registerOutboxLag(read: () => Promise<number>): () => void {
  return registerScrapeGauge(
    {
      name: 'raptorflow_outbox_lag_seconds',
      help: 'Age of the oldest event_outbox row not yet enqueued in Redis (0: nothing pending), read at scrape time',
      labelNames: [],
    },
    async () => [{ labels: {}, value: await read() }],
  );
}

/** `read` gives the month's most utilised workspaces, at most BUDGET_UTILISATION_TOP_N of them. */
export function registerBudgetUtilisation(read: () => Promise<WorkspaceUtilisation[]>): () => void {
  return registerScrapeGauge(
    {
      name: 'raptorflow_budget_utilisation_ratio',
      help: `Spent share of this month's budget for the ${BUDGET_UTILISATION_TOP_N} most utilised workspaces (1 = all of it)`,
      labelNames: ['workspace_id'],
    },
    async () =>
      (await read())
        .slice(0, BUDGET_UTILISATION_TOP_N)
        .map((u) => ({ labels: { workspace_id: u.workspaceId }, value: u.ratio })),
  );
}

/** `read` gives every configured model of every alias chain (the process's ModelRouter). */
export function registerModelRetirement(read: () => ModelRetirement[]): () => void {
  return registerScrapeGauge(
    {
      name: 'raptorflow_model_retirement_days',
      help: 'Whole days until a configured model retires (negative once past; +Inf when no date is announced)',
      labelNames: ['alias', 'model'],
    },
    () => read().map((r) => ({ labels: { alias: r.alias, model: r.model }, value: r.days })),
  );
}
