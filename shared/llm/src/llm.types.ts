import type { TokenUsage } from '@raptorflow/core/money/money';

/**
 * The contract between the ModelDispatcher and the providers. A provider makes exactly ONE attempt per
 * `generate` call (the SDKs' own retries are off): retries, fallbacks, rate limits and budgets live in the
 * dispatcher, so there is one retry loop in the whole system.
 */

export type ProviderName = 'gemini' | 'anthropic' | 'local';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ProviderRequest {
  /** The provider's model id, e.g. `gemini-3.8-flash` or `claude-sonnet-5`. */
  model: string;
  messages: readonly ChatMessage[];
  system?: string;
  maxTokens: number;
  /** Fired by the dispatcher on timeout or caller cancel; the provider must stop the HTTP call at once. */
  signal: AbortSignal;
  /**
   * Ask for a JSON answer of this shape through the provider's native structured output (Gemini
   * `responseJsonSchema`, Claude `output_config.format`); the answer's text is then that JSON.
   */
  responseSchema?: ResponseSchema;
  /**
   * Stream the answer: the provider uses its streaming API and calls this with each piece of text as it
   * arrives. The response is still the whole answer, with the final usage.
   */
  onText?: (delta: string) => void;
}

/** A JSON Schema (draft 2020-12, as zod's `z.toJSONSchema` writes it) for a structured answer. */
export interface ResponseSchema {
  /** A short name for traces and errors, e.g. `research_plan`. */
  name: string;
  schema: Record<string, unknown>;
}

// One definition of billable usage, beside the money math that prices it.
export type { TokenUsage } from '@raptorflow/core/money/money';
export interface ProviderResponse {
  text: string;
  /** The model id the provider reports (falls back to the requested one). */
  model: string;
  usage: TokenUsage;
}

export type ProviderErrorKind =
  /** 429: retry after `retryAfterMs` when given. */
  | 'rate_limited'
  /** 5xx / 529 overloaded: retry, then fall back. */
  | 'server_error'
  /** Connection reset, DNS, socket closed before a response: retry, then fall back. */
  | 'network'
  /** The per-call timeout fired. */
  | 'timeout'
  /** The caller cancelled: no retry, no fallback. */
  | 'aborted'
  /** 2xx whose body is not the documented shape: fall back (another model may be fine), no retry. */
  | 'bad_response'
  /** 4xx other than 429 (bad request, auth, not found): final. */
  | 'client_error'
  /** No usable credentials (missing ADC, unreadable key file): a configuration error, never retried. */
  | 'credentials';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly opts: {
      status?: number;
      retryAfterMs?: number;
      provider?: ProviderName;
      model?: string;
      /** A stream that broke after some of its text was delivered: never retried (see route-attempts). */
      partial?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return (
      this.kind === 'rate_limited' ||
      this.kind === 'server_error' ||
      this.kind === 'network' ||
      this.kind === 'timeout'
    );
  }
}

/** What the texts are embedded for: stored documents and the queries that search them embed differently. */
export type EmbedTask = 'document' | 'query';

export interface EmbedProviderRequest {
  /** The provider's embedding model id, e.g. `gemini-embedding-001`. */
  model: string;
  /** Many texts in ONE request (the provider's batch form): the dispatcher never loops per text. */
  texts: readonly string[];
  /** Every vector has exactly this many dimensions (Gemini's `outputDimensionality`). */
  dimensions: number;
  task: EmbedTask;
  signal: AbortSignal;
}

export interface EmbedProviderResponse {
  /** One vector per text, in order, each of `dimensions` numbers (not necessarily unit length). */
  vectors: number[][];
  model: string;
  /** Input tokens the provider reports; undefined when it reports none (the dispatcher then estimates). */
  inputTokens: number | undefined;
}

export interface LlmProvider {
  readonly name: ProviderName;
  /** One attempt. Throws ProviderError (never a raw SDK error) so the dispatcher can classify it. */
  generate(req: ProviderRequest): Promise<ProviderResponse>;
  /** One attempt at embedding a batch; absent when the provider has no embedding models (Anthropic). */
  embed?(req: EmbedProviderRequest): Promise<EmbedProviderResponse>;
}
