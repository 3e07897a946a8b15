import { embeddingWords } from '@raptorflow/llm/embeddings/local-embedder';

/** Reciprocal rank fusion's constant (Cormack et al.; what Zep, Elasticsearch and pgvector's docs use). */
export const RRF_K = 60;

export interface RankedList {
  /** Best first, each with the score it was ranked by: equal scores share a rank. */
  items: readonly { id: string; score: number }[];
}

export interface FusedScore {
  id: string;
  /** Σ 1 / (RRF_K + rank) over the lists the id is in (rank from 1). */
  score: number;
  /** 1-based rank in each list, null where the id is absent. */
  ranks: (number | null)[];
}

/**
 * Reciprocal rank fusion: each list votes 1/(k + rank) for its items, so an item near the top of either
 * list rises, and one found by both rises most. Ranks, not raw scores, are fused: cosine similarity and
 * full-text rank live on different scales. Equal scores share a rank ("1224" ranking), so the order never
 * depends on how a database happened to order a tie; what is still tied breaks by the first list's rank,
 * then by id.
 */
export function reciprocalRankFusion(lists: readonly RankedList[], limit: number): FusedScore[] {
  const byId = new Map<string, FusedScore>();
  lists.forEach((list, li) => {
    let rank = 0;
    list.items.forEach(({ id, score }, i) => {
      if (i === 0 || score !== list.items[i - 1]!.score) rank = i + 1;
      const entry = byId.get(id) ?? { id, score: 0, ranks: lists.map(() => null) };
      entry.score += 1 / (RRF_K + rank);
      entry.ranks[li] = rank;
      byId.set(id, entry);
    });
  });
  const byRanks = (a: FusedScore, b: FusedScore) => {
    for (let li = 0; li < lists.length; li++) {
      const d = (a.ranks[li] ?? Infinity) - (b.ranks[li] ?? Infinity);
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    return a.id < b.id ? -1 : 1;
  };
  return [...byId.values()].sort((a, b) => b.score - a.score || byRanks(a, b)).slice(0, limit);
}

/**
 * The query's words for full-text search: letters and digits only (so they are safe inside a tsquery), at
 * most 32 distinct ones; PostgreSQL's English configuration stems them and drops stop words itself.
 */
export function searchTerms(query: string): string[] {
  return [...new Set(embeddingWords(query))].filter((w) => w.length <= 64).slice(0, 32);
}

/** How many candidates each list brings to the fusion for a top-k answer. */
export function candidatePool(k: number): number {
  return Math.min(400, Math.max(50, 4 * k));
}
