import { ApiError, GoogleGenAI } from '@google/genai';
import type { GenerateContentResponse, GoogleGenAIOptions } from '@google/genai';
import { ProviderError } from '../llm.types';
import type {
  EmbedProviderRequest,
  EmbedProviderResponse,
  LlmProvider,
  ProviderRequest,
  ProviderResponse,
  TokenUsage,
} from '../llm.types';
import { embedParams, parseEmbedResponse } from './gemini-embed';
import {
  abortedError,
  describeError,
  isAbortError,
  isCredentialError,
  isNetworkError,
  parseGoogleRetryDelay,
  parseRetryAfter,
  providerError,
  statusError,
} from './provider-errors';
import type { ErrorContext } from './provider-errors';

export type GeminiGoogleAuthOptions = NonNullable<GoogleGenAIOptions['googleAuthOptions']>;

export interface GeminiProviderOptions {
  /** Vertex AI (OAuth through google-auth-library); without it, the Gemini API with `apiKey`. */
  vertex?: { project: string; location: string };
  /** Gemini API key; required unless `vertex` is given. */
  apiKey?: string;
  /**
   * Server root, without the API version: the SDK appends `/v1beta/models/...` (API key) or
   * `/v1beta1/projects/...` (Vertex). Unset: the SDK's regional default (GOOGLE_*_BASE_URL can override it).
   */
  baseUrl?: string;
  /**
   * Vertex credentials, handed to google-auth-library as is. Tests pass `{ authClient }` with an OAuth2Client
   * holding a fixed access token, so no Google credentials or token endpoint are involved.
   */
  googleAuthOptions?: GeminiGoogleAuthOptions;
}

/** What the one HTTP response of a call looked like: the SDK's ApiError drops the headers we need. */
interface SeenResponse {
  status: number;
  headers: Headers;
}

/**
 * Gemini through `@google/genai`, one HTTP request per `generate` or `embed` (no SDK retries: `retryOptions`
 * stays unset, which is the SDK's "no p-retry" path).
 */
export class GeminiProvider implements LlmProvider {
  readonly name = 'gemini' as const;
  private readonly client: GoogleGenAI;
  private readonly secrets: string[];

  constructor(opts: GeminiProviderOptions) {
    if (!opts.vertex && !opts.apiKey) throw new Error('GeminiProvider needs either vertex or apiKey');
    // Every choice is explicit: left unset, the SDK fills it from GOOGLE_API_KEY, GOOGLE_GENAI_USE_VERTEXAI,
    // GOOGLE_CLOUD_PROJECT and friends, behind our config module's back.
    const base: GoogleGenAIOptions = {
      vertexai: Boolean(opts.vertex),
      httpOptions: opts.baseUrl ? { baseUrl: opts.baseUrl } : {},
    };
    this.client = new GoogleGenAI(
      opts.vertex
        ? {
            ...base,
            project: opts.vertex.project,
            location: opts.vertex.location,
            ...(opts.googleAuthOptions ? { googleAuthOptions: opts.googleAuthOptions } : {}),
          }
        : { ...base, apiKey: opts.apiKey },
    );
    this.secrets = opts.apiKey ? [opts.apiKey] : [];
  }

  async generate(req: ProviderRequest): Promise<ProviderResponse> {
    const ctx: ErrorContext = { provider: this.name, model: req.model, secrets: this.secrets };
    const params = (recordingFetch: typeof fetch) => ({
      model: req.model,
      contents: req.messages.map((m) => ({
        role: m.role === 'assistant' ? 'model' : 'user',
        parts: [{ text: m.content }],
      })),
      config: {
        ...(req.system ? { systemInstruction: req.system } : {}),
        maxOutputTokens: req.maxTokens,
        // Native structured output: the model is constrained to JSON of this schema.
        ...(req.responseSchema
          ? { responseMimeType: 'application/json', responseJsonSchema: req.responseSchema.schema }
          : {}),
        abortSignal: req.signal,
        httpOptions: { fetch: recordingFetch },
      },
    });
    const onText = req.onText;
    if (!onText) {
      const res = await this.once(ctx, req.signal, (f) => this.client.models.generateContent(params(f)));
      return parseResponse(res, req.model, ctx);
    }
    // `:streamGenerateContent?alt=sse`: each chunk carries new text; the last one the final usage.
    const chunks: GenerateContentResponse[] = [];
    await this.once(ctx, req.signal, async (f) => {
      for await (const chunk of await this.client.models.generateContentStream(params(f))) {
        chunks.push(chunk);
        const text = textOf(chunk);
        if (text) onText(text);
      }
    });
    return parseStream(chunks, req.model, ctx);
  }

  /** All texts in one request (`:predict` on Vertex, `:batchEmbedContents` with a key); see gemini-embed.ts. */
  async embed(req: EmbedProviderRequest): Promise<EmbedProviderResponse> {
    const ctx: ErrorContext = { provider: this.name, model: req.model, secrets: this.secrets };
    if (req.signal.aborted) throw abortedError(ctx);
    // Nothing to embed is not worth a request (both APIs would refuse an empty batch with a 400).
    if (req.texts.length === 0) return { vectors: [], model: req.model, inputTokens: 0 };
    // Without outputDimensionality the model answers at full size (3072), and every vector would then be
    // refused as bad_response: a caller bug, so say so before spending a request on it.
    if (!Number.isInteger(req.dimensions) || req.dimensions <= 0)
      throw providerError(
        'client_error',
        ctx,
        `dimensions must be a positive integer, got ${req.dimensions}`,
      );
    const res = await this.once(ctx, req.signal, (recordingFetch) =>
      this.client.models.embedContent(embedParams(req, recordingFetch)),
    );
    return parseEmbedResponse(res, req, ctx);
  }

  /**
   * One SDK call as one attempt: records the HTTP response the SDK's ApiError forgets (status, Retry-After),
   * and turns every failure into a classified ProviderError.
   */
  private async once<T>(
    ctx: ErrorContext,
    signal: AbortSignal,
    call: (recordingFetch: typeof fetch) => Promise<T>,
  ): Promise<T> {
    if (signal.aborted) throw abortedError(ctx);
    const seen: { response?: SeenResponse } = {};
    // Per call, so concurrent calls on this one client don't see each other's headers.
    const recordingFetch = async (...args: Parameters<typeof fetch>): Promise<Response> => {
      const res = await fetch(...args);
      seen.response = { status: res.status, headers: res.headers };
      return res;
    };
    let res: T;
    try {
      res = await call(recordingFetch);
    } catch (err) {
      throw toProviderError(err, ctx, signal, seen.response);
    }
    if (signal.aborted) throw abortedError(ctx);
    return res;
  }
}

function toProviderError(
  err: unknown,
  ctx: ErrorContext,
  signal: AbortSignal,
  seen: SeenResponse | undefined,
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (isAbortError(err, signal)) return abortedError(ctx);
  if (isCredentialError(err))
    return providerError('credentials', ctx, `no usable credentials: ${describeError(err)}`);
  if (err instanceof ApiError) {
    const retryAfterMs = parseRetryAfter(seen?.headers) ?? parseGoogleRetryDelay(safeJson(err.message));
    return statusError(err.status, ctx, err.message, retryAfterMs);
  }
  if (isNetworkError(err)) return providerError('network', ctx, describeError(err));
  // A 2xx arrived and reading it failed (not JSON, not an object): the body is the problem, not the link.
  if (seen && seen.status >= 200 && seen.status < 300)
    return providerError('bad_response', ctx, `unreadable response body: ${describeError(err)}`, {
      status: seen.status,
    });
  // Before any response: a configuration problem (no credentials, bad options) that a retry won't cure.
  return providerError('client_error', ctx, describeError(err));
}

function parseResponse(res: GenerateContentResponse, requested: string, ctx: ErrorContext): ProviderResponse {
  const candidate = Array.isArray(res?.candidates) ? res.candidates[0] : undefined;
  const u = res?.usageMetadata;
  if (!candidate || !u || typeof u !== 'object')
    throw providerError('bad_response', ctx, 'response has no candidates or no usageMetadata');
  return { text: textOf(res), model: modelOf(res, requested), usage: usageFrom(u) };
}

/** A stream's answer is its chunks' text; its usage is the last chunk's (each carries the running total). */
function parseStream(
  chunks: GenerateContentResponse[],
  requested: string,
  ctx: ErrorContext,
): ProviderResponse {
  const last = [...chunks].reverse().find((c) => c?.usageMetadata && typeof c.usageMetadata === 'object');
  if (!last?.usageMetadata || !chunks.some((c) => Array.isArray(c?.candidates) && c.candidates.length > 0))
    throw providerError('bad_response', ctx, 'stream has no candidates or no usageMetadata');
  return {
    text: chunks.map(textOf).join(''),
    model: modelOf(last, requested),
    usage: usageFrom(last.usageMetadata),
  };
}

/** The answer's text in a response or chunk: the first candidate's parts, thoughts left out. */
function textOf(res: GenerateContentResponse): string {
  const candidate = Array.isArray(res?.candidates) ? res.candidates[0] : undefined;
  const parts = Array.isArray(candidate?.content?.parts) ? candidate.content.parts : [];
  return parts
    .filter((p) => !p.thought && typeof p.text === 'string')
    .map((p) => p.text)
    .join('');
}

function modelOf(res: GenerateContentResponse, requested: string): string {
  return typeof res.modelVersion === 'string' && res.modelVersion ? res.modelVersion : requested;
}

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * promptTokenCount INCLUDES cachedContentTokenCount, so the cached part is taken out of input to keep the
 * kinds disjoint. Tool-use prompt tokens are billed as input. Gemini has no cache-write charge per call
 * (storage is billed per hour on the cache itself).
 */
export function usageFrom(u: NonNullable<GenerateContentResponse['usageMetadata']>): TokenUsage {
  const cached = count(u.cachedContentTokenCount);
  return {
    inputTokens: Math.max(0, count(u.promptTokenCount) - cached) + count(u.toolUsePromptTokenCount),
    cachedInputTokens: cached,
    cacheWriteTokens: 0,
    outputTokens: count(u.candidatesTokenCount),
    thinkingTokens: count(u.thoughtsTokenCount),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
