import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import type { ClientOptions as VertexClientOptions } from '@anthropic-ai/vertex-sdk';
import { ProviderError } from '../llm.types';
import type { LlmProvider, ProviderRequest, ProviderResponse, TokenUsage } from '../llm.types';
import {
  abortedError,
  describeError,
  errorMessage,
  isAbortError,
  isCredentialError,
  isNetworkError,
  parseRetryAfter,
  providerError,
  statusError,
} from './provider-errors';
import type { ErrorContext } from './provider-errors';

export type VertexAuthClient = NonNullable<VertexClientOptions['authClient']>;
export type VertexGoogleAuth = NonNullable<VertexClientOptions['googleAuth']>;

export interface AnthropicProviderOptions {
  /** Anthropic API key (direct API). Ignored with `vertex`, which authenticates with Google credentials. */
  apiKey?: string;
  /** Claude on Vertex AI (rawPredict) instead of the Anthropic API. */
  vertex?: { projectId: string; region: string };
  /**
   * Passed to the SDK as `baseURL`. Direct API: the server root (the SDK appends `/v1/messages`). Vertex: the
   * root INCLUDING `/v1` (the SDK's default is `https://{region}-aiplatform.googleapis.com/v1`).
   */
  baseUrl?: string;
  /** Vertex only: a ready google-auth-library client (tests: an OAuth2Client with a fixed access token). */
  authClient?: VertexAuthClient;
  /** Vertex only: a configured GoogleAuth; default is Application Default Credentials. */
  googleAuth?: VertexGoogleAuth;
  /**
   * The SDK's own per-request timeout, a backstop behind the dispatcher's signal. Setting it also stops the
   * SDK refusing large non-streaming `max_tokens` ("Streaming is required ...").
   */
  sdkTimeoutMs?: number;
}

const DEFAULT_SDK_TIMEOUT_MS = 10 * 60 * 1000;

// Both clients share the canonical Messages API; the Vertex one lacks batches, which we never use.
type MessagesClient = { messages: Pick<Anthropic['messages'], 'create' | 'stream'> };

/** Claude through `@anthropic-ai/sdk` (or the Vertex SDK), one HTTP request per `generate` (`maxRetries: 0`). */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  private readonly client: MessagesClient;
  private readonly secrets: string[];

  constructor(opts: AnthropicProviderOptions) {
    const timeout = opts.sdkTimeoutMs ?? DEFAULT_SDK_TIMEOUT_MS;
    // baseURL is always passed: left undefined, the SDKs read ANTHROPIC_BASE_URL / ANTHROPIC_VERTEX_BASE_URL.
    if (opts.vertex) {
      if (opts.authClient && opts.googleAuth) throw new Error('AnthropicProvider: authClient OR googleAuth');
      this.client = new AnthropicVertex({
        projectId: opts.vertex.projectId,
        region: opts.vertex.region,
        baseURL: opts.baseUrl ?? vertexBaseUrl(opts.vertex.region),
        maxRetries: 0,
        timeout,
        ...(opts.authClient ? { authClient: opts.authClient } : {}),
        ...(opts.googleAuth ? { googleAuth: opts.googleAuth } : {}),
      });
    } else {
      if (!opts.apiKey) throw new Error('AnthropicProvider needs apiKey (or vertex)');
      this.client = new Anthropic({
        apiKey: opts.apiKey,
        baseURL: opts.baseUrl ?? 'https://api.anthropic.com',
        maxRetries: 0,
        timeout,
      });
    }
    this.secrets = opts.apiKey ? [opts.apiKey] : [];
  }

  async generate(req: ProviderRequest): Promise<ProviderResponse> {
    const ctx: ErrorContext = { provider: this.name, model: req.model, secrets: this.secrets };
    if (req.signal.aborted) throw abortedError(ctx);
    const params = {
      model: req.model,
      max_tokens: req.maxTokens,
      ...(req.system ? { system: req.system } : {}),
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      // Structured outputs: the answer's one text block is JSON of this schema. The SDK's transform moves
      // what the API does not constrain (lengths, numeric bounds) into descriptions, as its helpers do.
      ...(req.responseSchema
        ? {
            output_config: {
              format: {
                type: 'json_schema' as const,
                schema: transformJSONSchema(req.responseSchema.schema),
              },
            },
          }
        : {}),
    };
    const onText = req.onText;
    let res: unknown;
    try {
      if (onText) {
        // SSE (`stream: true`): text deltas as they come; the final message carries the final usage.
        const stream = this.client.messages.stream(params, { signal: req.signal });
        stream.on('text', (delta) => onText(delta));
        res = await stream.finalMessage();
      } else {
        res = await this.client.messages.create(params, { signal: req.signal });
      }
    } catch (err) {
      throw toProviderError(err, ctx, req.signal);
    }
    if (req.signal.aborted) throw abortedError(ctx);
    return parseMessage(res, req.model, ctx);
  }
}

function vertexBaseUrl(region: string): string {
  if (region === 'global') return 'https://aiplatform.googleapis.com/v1';
  if (region === 'us' || region === 'eu') return `https://aiplatform.${region}.rep.googleapis.com/v1`;
  return `https://${region}-aiplatform.googleapis.com/v1`;
}

function toProviderError(err: unknown, ctx: ErrorContext, signal: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIUserAbortError || isAbortError(err, signal)) return abortedError(ctx);
  if (isCredentialError(err))
    return providerError('credentials', ctx, `no usable credentials: ${describeError(err)}`);
  // Only the SDK's backstop timer can raise this (our signal is checked above).
  if (err instanceof APIConnectionTimeoutError) return providerError('timeout', ctx, 'SDK request timeout');
  if (err instanceof APIConnectionError) return providerError('network', ctx, describeError(err));
  if (err instanceof APIError && typeof err.status === 'number')
    return statusError(err.status, ctx, err.message, parseRetryAfter(err.headers));
  // A 2xx declared JSON that did not parse: the SDK lets the SyntaxError through. Matched by name, since
  // fetch's parser may throw another realm's SyntaxError (jest's vm sandbox, for one).
  if ((err as Error | undefined)?.name === 'SyntaxError')
    return providerError('bad_response', ctx, `unreadable body: ${errorMessage(err)}`);
  if (isNetworkError(err)) return providerError('network', ctx, describeError(err));
  // The SDK refusing the call before sending it (bad options, missing project): a retry won't cure it.
  return providerError('client_error', ctx, describeError(err));
}

function isMessage(res: unknown): res is Message {
  const m = res as Partial<Message> | null;
  return (
    !!m &&
    typeof m === 'object' &&
    Array.isArray(m.content) &&
    !!m.usage &&
    typeof m.usage === 'object' &&
    typeof m.usage.input_tokens === 'number' &&
    typeof m.usage.output_tokens === 'number'
  );
}

function parseMessage(res: unknown, requested: string, ctx: ErrorContext): ProviderResponse {
  // Non-JSON content types come back as a string from the SDK; wrong JSON shapes as whatever they were.
  if (!isMessage(res)) throw providerError('bad_response', ctx, 'response is not a Messages API message');
  const text = res.content
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .join('');
  return {
    text,
    model: typeof res.model === 'string' && res.model ? res.model : requested,
    usage: usageFrom(res.usage),
  };
}

/**
 * input_tokens already excludes cache reads and writes. Thinking is billed inside output_tokens and not
 * reported apart, so it stays in output (thinkingTokens 0) and is never counted twice.
 */
export function usageFrom(u: Message['usage']): TokenUsage {
  return {
    inputTokens: u.input_tokens,
    cachedInputTokens: u.cache_read_input_tokens ?? 0,
    cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
    outputTokens: u.output_tokens,
    thinkingTokens: 0,
  };
}
