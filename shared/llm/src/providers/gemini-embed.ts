import type { EmbedContentParameters, EmbedContentResponse, Fetch } from '@google/genai';
import type { EmbedProviderRequest, EmbedProviderResponse, EmbedTask } from '../llm.types';
import { providerError } from './provider-errors';
import type { ErrorContext } from './provider-errors';

/**
 * The embedding half of the Gemini provider: what `embedContent` is asked, and what of its answer we believe.
 * The one-attempt HTTP call and its error classification stay in gemini.provider.ts, shared with `generate`.
 *
 * On the wire (SDK 2.32): with `vertexai: true`, `gemini-embedding-001` (and the non-Gemini `text-embedding-*`
 * models) go to `…/publishers/google/models/{model}:predict` as `{instances: [{content, task_type}], parameters:
 * {outputDimensionality}}`, answered by `{predictions: [{embeddings: {values, statistics: {token_count}}}]}`.
 * With an API key it is `models/{model}:batchEmbedContents`, `{requests: [{model, content, taskType,
 * outputDimensionality}]}`, answered by `{embeddings: [{values}]}` with no token counts at all.
 */

// Stored documents and the queries that search them are embedded differently (asymmetric retrieval); naming
// the task is what makes a query land near the passages that answer it rather than near similar questions.
const TASK_TYPES: Record<EmbedTask, string> = {
  document: 'RETRIEVAL_DOCUMENT',
  query: 'RETRIEVAL_QUERY',
};

/** The SDK parameters for one batch: every text is its own content, so each comes back as its own vector. */
export function embedParams(req: EmbedProviderRequest, fetchImpl: Fetch): EmbedContentParameters {
  return {
    model: req.model,
    // One Content object per text, never the bare strings: for some models (gemini-embedding-2*, and every
    // Vertex `gemini*` model but gemini-embedding-001) the SDK folds an array of strings into ONE content of
    // many parts, which comes back as a single vector for the whole batch. As Content objects the batch stays
    // a batch, or the SDK refuses it outright (Vertex `:embedContent` takes one content per request).
    contents: req.texts.map((text) => ({ role: 'user', parts: [{ text }] })),
    config: {
      outputDimensionality: req.dimensions,
      taskType: TASK_TYPES[req.task],
      abortSignal: req.signal,
      httpOptions: { fetch: fetchImpl },
    },
  };
}

/**
 * Checks the answer before anyone stores it: a vector too few, too short or holding a NaN would otherwise be
 * written to the index silently and spoil search for that text forever. Anything off is `bad_response`, so
 * the dispatcher may try another model but does not retry this one.
 */
export function parseEmbedResponse(
  res: EmbedContentResponse,
  req: EmbedProviderRequest,
  ctx: ErrorContext,
): EmbedProviderResponse {
  const embeddings: unknown = res?.embeddings;
  if (!Array.isArray(embeddings)) throw providerError('bad_response', ctx, 'response has no embeddings');
  if (embeddings.length !== req.texts.length)
    throw providerError(
      'bad_response',
      ctx,
      `expected ${req.texts.length} vectors, got ${embeddings.length}`,
    );
  const vectors = embeddings.map((e: unknown, i) => vectorOf(e, i, req.dimensions, ctx));
  return { vectors, model: req.model, inputTokens: inputTokensOf(embeddings) };
}

function vectorOf(embedding: unknown, i: number, dimensions: number, ctx: ErrorContext): number[] {
  const values: unknown = (embedding as { values?: unknown } | null | undefined)?.values;
  if (!Array.isArray(values)) throw providerError('bad_response', ctx, `vector ${i} has no values`);
  if (values.length !== dimensions)
    throw providerError(
      'bad_response',
      ctx,
      `vector ${i} has ${values.length} dimensions, expected ${dimensions}`,
    );
  // JSON cannot carry NaN or Infinity, so a broken number arrives as null or a string; both fail here.
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw providerError('bad_response', ctx, `vector ${i} holds a value that is not a finite number`);
  return values as number[];
}

/**
 * Vertex reports tokens per text (`statistics.token_count`, which the SDK renames to `tokenCount`); the Gemini
 * API reports none. Only a count for EVERY text is summed: a partial sum would under-bill, whereas undefined
 * lets the dispatcher estimate the whole batch.
 */
function inputTokensOf(embeddings: readonly unknown[]): number | undefined {
  let total = 0;
  for (const e of embeddings) {
    const n: unknown = (e as { statistics?: { tokenCount?: unknown } }).statistics?.tokenCount;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
    total += n;
  }
  return embeddings.length > 0 ? total : undefined;
}
