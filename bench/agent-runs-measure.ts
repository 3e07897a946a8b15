// Drivers and statistics shared by both sides of bench/agent-runs, so the project and its baseline are
// measured by exactly the same loops.

/** One research run from start to observed end; `i` keeps the topics (and so the prompts) distinct. */
export type RunOnce<T> = (i: number) => Promise<T>;

export interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export function median(samples: number[]): number {
  return stats(samples).p50;
}

export interface Sequential<T> extends Stats {
  results: T[];
  /** Runs per second one caller gets back to back (1000 / mean latency). */
  rate: number;
}

/** Runs one at a time; the next starts only once the previous one was seen to end. */
export async function sequential<T>(run: RunOnce<T>, n: number, from = 0): Promise<Sequential<T>> {
  const lat: number[] = [];
  const results: T[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    results.push(await run(from + i));
    lat.push(performance.now() - t);
  }
  const s = stats(lat);
  return { ...s, results, rate: 1000 / s.mean };
}

export interface Throughput extends Stats {
  rate: number;
  seconds: number;
}

/**
 * `inFlight` callers each start a run as soon as their previous one ended, until `total` runs were started;
 * runs/s counts from the first start to the last end, so the tail of the last runs is included.
 */
export async function closedLoop(
  run: RunOnce<unknown>,
  total: number,
  inFlight: number,
  from = 0,
): Promise<Throughput> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await run(from + i);
        lat.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { ...stats(lat), rate: total / seconds, seconds };
}

export const ms = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
export const perSec = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} runs/s`;
export const times = (n: number) => `${n.toFixed(1)}×`;
export const signedMs = (n: number) => `${n >= 0 ? '+' : '−'}${ms(Math.abs(n))}`;
