import { ProviderError } from '../llm.types';
import { realisticTokenCount } from '../token-estimate';

/** At most this many texts per provider request (the Gemini API's batch limit; Vertex allows 250). */
export const EMBED_BATCH_TEXTS = 100;
/** Estimated tokens per request, under Vertex's 20,000-token request limit with room for estimate error. */
export const EMBED_BATCH_TOKENS = 15_000;

/** Splits texts, in order, into batches one provider request each can take. */
export function embedBatches(texts: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const text of texts) {
    const t = realisticTokenCount(text);
    if (current.length > 0 && (current.length >= EMBED_BATCH_TEXTS || tokens + t > EMBED_BATCH_TOKENS)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(text);
    tokens += t;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Bytes bound tokens from above (see token-estimate.ts): the reservation can never be exceeded. */
export function embedTokenUpperBound(texts: readonly string[]): number {
  return texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
}

/**
 * What is billed when the provider reports no token count (the Gemini API's batchEmbedContents does not;
 * Vertex does): about four characters a token.
 */
export function embedTokenEstimate(texts: readonly string[]): number {
  return texts.reduce((n, t) => n + realisticTokenCount(t), 0);
}

/** A 2xx whose vectors do not match the request is the provider's fault: fall back, never store it. */
export function checkVectors(vectors: unknown, count: number, dimensions: number): void {
  const bad = (why: string) => new ProviderError('bad_response', `embedding response ${why}`);
  if (!Array.isArray(vectors) || vectors.length !== count)
    throw bad(`has ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${count} texts`);
  for (const v of vectors) {
    if (!Array.isArray(v) || v.length !== dimensions)
      throw bad(`has a vector of ${Array.isArray(v) ? v.length : 'no'} dimensions, not ${dimensions}`);
    if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad('has a non-finite number');
  }
}
