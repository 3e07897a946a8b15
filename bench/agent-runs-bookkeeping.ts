// "Bookkeeping per step" of bench/agent-runs: a step's wall time minus its model (and memory) calls, as the
// agent-runner measures it (its raptorflow_run_step_bookkeeping_seconds histogram, read from /metrics
// before and after a phase), beside the floor it is made of: single round trips to PostgreSQL, same run.
import type { Knex } from 'knex';
import pg from 'pg';
import { stats } from './agent-runs-measure';

const METRIC = 'raptorflow_run_step_bookkeeping_seconds';

/** Cumulative bucket counts by work kind, then by upper bound (seconds; +Inf last). */
export type Buckets = Map<string, Array<{ le: number; count: number }>>;

export async function scrapeBookkeeping(runnerUrl: string, token?: string): Promise<Buckets> {
  const res = await fetch(`${runnerUrl}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  const out: Buckets = new Map();
  const line = new RegExp(`^${METRIC}_bucket\\{(.*)\\} (\\d+)$`, 'gm');
  for (const m of text.matchAll(line)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const work = labels.work ?? '';
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    out.set(work, [...(out.get(work) ?? []), { le, count: Number(m[2]) }]);
  }
  for (const b of out.values()) b.sort((x, y) => x.le - y.le);
  return out;
}

/** A quantile from the buckets observed between two scrapes, interpolated linearly inside its bucket. */
function quantile(buckets: Array<{ le: number; count: number }>, q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower;
      const inBucket = b.count - below;
      return lower + (b.le - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

/** p50, p99 (ms) and count of the steps of `work` between two scrapes; undefined when there were none. */
export function bookkeepingBetween(
  before: Buckets,
  after: Buckets,
  work: string,
): { p50: number; p99: number; n: number } | undefined {
  const end = after.get(work);
  if (!end) return undefined;
  const start = new Map((before.get(work) ?? []).map((b) => [b.le, b.count]));
  const diff = end.map((b) => ({ le: b.le, count: b.count - (start.get(b.le) ?? 0) }));
  const n = diff.at(-1)?.count ?? 0;
  if (n === 0) return undefined;
  return { p50: quantile(diff, 0.5) * 1000, p99: quantile(diff, 0.99) * 1000, n };
}

/**
 * The floor: one round trip to the same PostgreSQL from a plain pg client — a SELECT 1, and a single-row
 * INSERT that commits (a step writes at least one committed statement). Sequential, after a warm-up.
 */
export async function rawRoundTrips(
  db: Knex,
  n = 300,
): Promise<{ select: string; insert: string; insertP50: number }> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await db.raw('CREATE TABLE IF NOT EXISTS bench_round_trip (id bigserial PRIMARY KEY, data jsonb)');
  try {
    const time = async (sql: string, values: unknown[]) => {
      for (let i = 0; i < 30; i++) await client.query(sql, values);
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await client.query(sql, values);
        lat.push(performance.now() - t);
      }
      const s = stats(lat);
      return { text: `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`, p50: s.p50 };
    };
    const select = await time('SELECT 1', []);
    const insert = await time('INSERT INTO bench_round_trip (data) VALUES ($1::jsonb)', ['{"step":"x"}']);
    return { select: select.text, insert: insert.text, insertP50: insert.p50 };
  } finally {
    await client.end();
    await db.raw('DROP TABLE IF EXISTS bench_round_trip');
  }
}
