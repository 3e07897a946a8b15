import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_OUTPUT_TOKENS, FakeLlmServer, estimateTokens } from './fake-server.base';
import type {
  FakeRoute,
  FakeStatusBehaviour,
  FakeStreamPacing,
  PromptStats,
  SseFrame,
} from './fake-server.base';
import { schemaAnswer } from './schema-answer';

export interface GeminiFakeUsage {
  /** Everything the model read, cached part included (Gemini counts cache hits inside it). */
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiFakeOk extends FakeStreamPacing {
  /**
   * The answer's text, verbatim. Without it: JSON sampled from the request's `responseJsonSchema` (or
   * `responseSchema`) when it asks for JSON, else `Fake answer from <model>.`
   */
  text?: string;
  /** The answer as a value, sent as its JSON text (a shortcut for `text: JSON.stringify(json)`). */
  json?: unknown;
  /** Adds a `thought: true` part before the answer, as thinking models with includeThoughts do. */
  thought?: string;
  usage?: GeminiFakeUsage;
  finishReason?: string;
  /**
   * Embedding calls: answer with these vectors instead of the default one per text, each of the requested
   * size. Anything goes (too few, too short, nulls), to see the provider refuse it.
   */
  vectors?: unknown[][];
  /** Vertex embedding calls: `statistics.token_count` per text (default ~chars/4); `false` leaves statistics out. */
  tokenCounts?: number[] | false;
}

/** gemini-embedding-001's full size, what it answers when the request names no outputDimensionality. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 3072;

// Vertex AI: /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent
// (and :streamGenerateContent?alt=sse, the same body answered as Server-Sent Events)
const VERTEX_PATH =
  /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
// Gemini API (API key): /v1beta/models/{model}:generateContent (or :streamGenerateContent)
const GEMINI_API_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
// Embeddings. Vertex serves gemini-embedding-001 (and text-embedding-*) through the generic prediction
// endpoint; the Gemini API through its batch method, one sub-request per text.
const VERTEX_PREDICT_PATH =
  /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):predict$/;
const GEMINI_API_EMBED_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):batchEmbedContents$/;

type GeminiCall = 'generate' | 'vertex-embed' | 'api-embed';
interface GeminiRoute extends FakeRoute {
  call: GeminiCall;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * generateContent as the Gemini API and Vertex AI serve it (same body both ways; Vertex adds createTime), and
 * the two embedding endpoints (Vertex `:predict`, Gemini API `:batchEmbedContents`), each in its own format.
 * Scripts and counts are per model whichever endpoint is called.
 */
export class FakeGeminiServer extends FakeLlmServer<GeminiFakeOk> {
  // okBody only sees the model and the body, so the endpoint a body came in on is noted here, keyed by that
  // very body object (one per request, so concurrent calls cannot mix up their formats).
  private readonly calls = new WeakMap<object, GeminiCall>();

  protected route(method: string, pathname: string): GeminiRoute | undefined {
    if (method !== 'POST') return undefined;
    const routes: Array<[RegExp, GeminiCall]> = [
      [VERTEX_PATH, 'generate'],
      [GEMINI_API_PATH, 'generate'],
      [VERTEX_PREDICT_PATH, 'vertex-embed'],
      [GEMINI_API_EMBED_PATH, 'api-embed'],
    ];
    for (const [re, call] of routes) {
      const m = re.exec(pathname);
      if (m) return { model: decodeURIComponent(m[1]!), call, stream: m[2] === 'streamGenerateContent' };
    }
    return undefined;
  }

  protected override modelFromBody(route: FakeRoute, body: any): string {
    if (body && typeof body === 'object') this.calls.set(body, (route as GeminiRoute).call);
    return route.model;
  }

  protected promptStats(body: any): PromptStats {
    let chars = partsLength(body?.systemInstruction?.parts);
    for (const c of Array.isArray(body?.contents) ? body.contents : []) chars += partsLength(c?.parts);
    const max = Number(body?.generationConfig?.maxOutputTokens);
    return { promptChars: chars, maxTokens: max > 0 ? max : DEFAULT_OUTPUT_TOKENS };
  }

  protected okBody(model: string, body: any, ok: GeminiFakeOk, stats: PromptStats): unknown {
    const call = body && typeof body === 'object' ? this.calls.get(body) : undefined;
    if (call === 'vertex-embed') return vertexPredictBody(body, ok);
    if (call === 'api-embed') return batchEmbedBody(body, ok);
    const usageMetadata = usageOf(ok, stats);
    const parts: unknown[] = [];
    if (ok.thought !== undefined) parts.push({ text: ok.thought, thought: true });
    parts.push({ text: this.answerText(model, body, ok) });
    return {
      candidates: [
        {
          content: { role: 'model', parts },
          finishReason: finishReason(ok, stats, usageMetadata),
          avgLogprobs: -0.12,
        },
      ],
      usageMetadata,
      modelVersion: model,
      createTime: new Date().toISOString(),
      responseId: randomBytes(12).toString('base64url'),
    };
  }

  protected answerText(model: string, body: any, ok: GeminiFakeOk): string {
    if (ok.text !== undefined) return ok.text;
    if (ok.json !== undefined) return JSON.stringify(ok.json);
    const config = body?.generationConfig;
    const schema = config?.responseJsonSchema ?? config?.responseSchema;
    if (config?.responseMimeType === 'application/json' && schema) return schemaAnswer(schema, body);
    return `Fake answer from ${model}.`;
  }

  /**
   * `alt=sse`: one `data: <GenerateContentResponse>` per piece; each carries the prompt count, the last one
   * the whole usage and the finish reason, as the Gemini API streams them.
   */
  protected streamFrames(
    model: string,
    _body: any,
    ok: GeminiFakeOk,
    stats: PromptStats,
    pieces: string[],
  ): SseFrame[] {
    const usage = usageOf(ok, stats);
    const responseId = randomBytes(12).toString('base64url');
    return pieces.map((text, i) => {
      const last = i === pieces.length - 1;
      const parts: unknown[] = [];
      if (i === 0 && ok.thought !== undefined) parts.push({ text: ok.thought, thought: true });
      parts.push({ text });
      const chunk = {
        candidates: [
          {
            content: { role: 'model', parts },
            index: 0,
            ...(last ? { finishReason: finishReason(ok, stats, usage) } : {}),
          },
        ],
        usageMetadata: last
          ? usage
          : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount },
        modelVersion: model,
        createTime: new Date().toISOString(),
        responseId,
      };
      return { data: `data: ${JSON.stringify(chunk)}\r\n\r\n`, piece: true };
    });
  }

  protected errorBody(status: number, message: string, behaviour?: FakeStatusBehaviour): unknown {
    const error: Record<string, unknown> = {
      code: status,
      message,
      status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    };
    if (behaviour?.retryDelay !== undefined)
      error.details = [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: behaviour.retryDelay },
      ];
    return { error };
  }
}

function usageOf(
  ok: GeminiFakeOk,
  stats: PromptStats,
): Record<string, unknown> & { promptTokenCount: number } {
  const u = ok.usage ?? {};
  const prompt = u.promptTokenCount ?? estimateTokens(stats.promptChars);
  const candidates = u.candidatesTokenCount ?? Math.min(stats.maxTokens, DEFAULT_OUTPUT_TOKENS);
  const usageMetadata: Record<string, unknown> & { promptTokenCount: number } = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + (u.thoughtsTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
  };
  // Like the real API, the optional counts are absent rather than zero when they do not apply.
  if (u.cachedContentTokenCount !== undefined) {
    usageMetadata.cachedContentTokenCount = u.cachedContentTokenCount;
    usageMetadata.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: u.cachedContentTokenCount }];
  }
  if (u.thoughtsTokenCount !== undefined) usageMetadata.thoughtsTokenCount = u.thoughtsTokenCount;
  if (u.toolUsePromptTokenCount !== undefined)
    usageMetadata.toolUsePromptTokenCount = u.toolUsePromptTokenCount;
  return usageMetadata;
}

function finishReason(ok: GeminiFakeOk, stats: PromptStats, usage: Record<string, unknown>): string {
  return (
    ok.finishReason ?? ((usage.candidatesTokenCount as number) >= stats.maxTokens ? 'MAX_TOKENS' : 'STOP')
  );
}

function partsLength(parts: unknown): number {
  if (!Array.isArray(parts)) return 0;
  return parts.reduce<number>((n, p) => n + (typeof p?.text === 'string' ? p.text.length : 0), 0);
}

/**
 * Vertex `:predict` for embedding models. Request: `{instances: [{content, task_type?, title?}], parameters:
 * {outputDimensionality?, autoTruncate?}}` (snake_case task_type, camelCase parameters, as the SDK sends it).
 * Answer: one prediction per instance, statistics in snake_case (`token_count`), as Vertex writes them.
 */
function vertexPredictBody(body: any, ok: GeminiFakeOk): unknown {
  const instances: any[] = Array.isArray(body?.instances) ? body.instances : [];
  const texts = instances.map((i) => (typeof i?.content === 'string' ? i.content : ''));
  const dims = dimensionsOf(body?.parameters?.outputDimensionality);
  const vectors = ok.vectors ?? texts.map((t) => fakeEmbedding(t, dims));
  return {
    predictions: vectors.map((values, i) => {
      const tokens = ok.tokenCounts === false ? undefined : (ok.tokenCounts?.[i] ?? defaultTokens(texts[i]));
      return {
        embeddings: {
          ...(tokens === undefined ? {} : { statistics: { truncated: false, token_count: tokens } }),
          values,
        },
      };
    }),
    metadata: { billableCharacterCount: texts.reduce((n, t) => n + t.length, 0) },
  };
}

/**
 * Gemini API `:batchEmbedContents`. Request: `{requests: [{model: 'models/…', content: {parts: [{text}]},
 * taskType?, outputDimensionality?}]}`. Answer: `{embeddings: [{values}]}`, with no token counts at all.
 */
function batchEmbedBody(body: any, ok: GeminiFakeOk): unknown {
  const requests: any[] = Array.isArray(body?.requests) ? body.requests : [];
  const vectors =
    ok.vectors ??
    requests.map((r) => fakeEmbedding(textOf(r?.content?.parts), dimensionsOf(r?.outputDimensionality)));
  return { embeddings: vectors.map((values) => ({ values })) };
}

function dimensionsOf(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : DEFAULT_EMBEDDING_DIMENSIONS;
}

function defaultTokens(text: string | undefined): number {
  return Math.max(1, estimateTokens(text?.length ?? 0));
}

function textOf(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/**
 * The fake's vector for `text`: the same text always gives the same numbers, different texts different ones,
 * so tests can tell the order of a batch from the vectors alone. Values in [-1, 1), from SHA-256 of the text
 * in counter mode (a shorter vector is a prefix of a longer one, as with Gemini's truncatable embeddings).
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let o = 0; o + 4 <= digest.length && out.length < dimensions; o += 4)
      out.push(digest.readUInt32BE(o) / 2 ** 31 - 1);
  }
  return out;
}
