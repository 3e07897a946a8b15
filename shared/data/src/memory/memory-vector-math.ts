/** The arithmetic of memory search, shared by both paths (no SQL here). */

export interface Candidate {
  id: string;
  /** Cosine similarity (vector) or full-text rank (text): higher is nearer. */
  score: number;
}

/**
 * Similarities to 5 decimals: pgvector computes in float4 and the exact scan in float8, so the last digits
 * differ; rounded, the two paths rank (and show) the same numbers, and near-ties share a rank.
 */
export const roundScore = (x: number) => Math.round(x * 1e5) / 1e5;

/** Best first; equal scores in id order, so a page boundary never changes the answer. */
export function topCandidates(all: Candidate[], n: number): Candidate[] {
  return all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, n);
}

/** `[0.1,0.2,…]`: pgvector's text form of a vector. */
export const vectorLiteral = (v: readonly number[]) => `[${v.join(',')}]`;

/**
 * The dot product of a query vector with a `real[]` in PostgreSQL's binary array format (array_send):
 * a 12-byte header, one 8-byte dimension entry, then per element a 4-byte length and a big-endian float4.
 * Both vectors are unit length, so this is their cosine similarity.
 */
export function dotWithBinaryArray(bytes: Buffer, vector: readonly number[]): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = view.getInt32(0);
  if (dims !== 1) return 0;
  const length = view.getInt32(12);
  let sum = 0;
  let offset = 20;
  for (let i = 0; i < length && i < vector.length; i++, offset += 8)
    sum += view.getFloat32(offset + 4) * vector[i]!;
  return sum;
}
