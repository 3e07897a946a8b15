// bench/memory's ground truth: the exact cosine top-n over the very float4 vectors both databases store,
// computed in Node, ranked as the repository ranks (similarity to 5 decimals, then id), plus the recall
// measures and the small statistics helpers.
import type { Candidate } from '@raptorflow/data/repositories/memory-item.repository';
import { benchItemId } from './memory-corpus';

export const DIMS = 768;

const roundScore = (x: number) => Math.round(x * 1e5) / 1e5;

/** Cosine similarity of item `i` (a row of `vectors`) with a unit query vector, as the exact path sums it. */
export function similarity(vectors: Float32Array, i: number, q: readonly number[]): number {
  let sum = 0;
  const base = i * DIMS;
  for (let j = 0; j < DIMS; j++) sum += vectors[base + j]! * q[j]!;
  return roundScore(sum);
}

/**
 * The `n` items among the first `count` nearest `q`: similarity rounded to 5 decimals desc, then id asc (the
 * ids of one corpus sort as their index does), exactly the exact path's order.
 */
export function exactTop(
  seed: number,
  vectors: Float32Array,
  count: number,
  q: readonly number[],
  n: number,
): Candidate[] {
  const top: { i: number; score: number }[] = [];
  for (let i = 0; i < count; i++) {
    const score = similarity(vectors, i, q);
    if (top.length === n && score <= top[n - 1]!.score) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]!.score < score) at--;
    top.splice(at, 0, { i, score });
    if (top.length > n) top.pop();
  }
  return top.map((t) => ({ id: benchItemId(seed, t.i), score: t.score }));
}

/** The corpus index of a bench item id (its last 12 hex digits). */
export const indexOfId = (id: string) => parseInt(id.slice(-12), 16);

/** |found ∩ truth| / |truth|, by id. */
export function recallOf(found: readonly { id: string }[], truth: readonly { id: string }[]): number {
  if (truth.length === 0) return 1;
  const want = new Set(truth.map((t) => t.id));
  return found.filter((f) => want.has(f.id)).length / truth.length;
}

/**
 * Recall that counts an exact tie as a hit: a found item is right when its true similarity is at least the
 * true k-th item's (several items can share the k-th similarity, and either is a correct answer).
 */
export function tieAwareRecall(
  found: readonly { id: string }[],
  truth: readonly Candidate[],
  trueSimilarity: (id: string) => number,
): number {
  if (truth.length === 0) return 1;
  const kth = truth[truth.length - 1]!.score;
  const hits = found.slice(0, truth.length).filter((f) => trueSimilarity(f.id) >= kth).length;
  return Math.min(truth.length, hits) / truth.length;
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function stats(samples: readonly number[]): { p50: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99), n: s.length };
}
