import { randomBytes } from 'node:crypto';
import { DEFAULT_OUTPUT_TOKENS, FakeLlmServer, estimateTokens } from './fake-server.base';
import type { FakeRoute, PromptStats } from './fake-server.base';

export interface AnthropicFakeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export interface AnthropicFakeOk {
  text?: string;
  /** Adds a `thinking` block before the text, as extended thinking does. */
  thinking?: string;
  usage?: AnthropicFakeUsage;
}

// Vertex puts the model in the path and the verb after a colon: .../publishers/anthropic/models/<model>:rawPredict
const VERTEX_PATH =
  /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/([^/:]+):rawPredict$/;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * The Messages API as Anthropic (POST /v1/messages) and Vertex AI (rawPredict) serve it. On Vertex the model
 * comes from the path and the body carries `anthropic_version` instead of a `model`.
 */
export class FakeAnthropicServer extends FakeLlmServer<AnthropicFakeOk> {
  protected route(method: string, pathname: string): FakeRoute | undefined {
    if (method !== 'POST') return undefined;
    if (pathname === '/v1/messages') return { model: '' };
    const m = VERTEX_PATH.exec(pathname);
    return m ? { model: decodeURIComponent(m[1]!) } : undefined;
  }

  // The direct API's model is in the body, which route() has not read yet: fill it in from there.
  protected override modelFromBody(route: FakeRoute, body: any): string {
    return route.model || (typeof body?.model === 'string' ? body.model : 'unknown');
  }

  protected promptStats(body: any): PromptStats {
    let chars = textLength(body?.system);
    for (const m of Array.isArray(body?.messages) ? body.messages : []) chars += textLength(m?.content);
    return { promptChars: chars, maxTokens: Number(body?.max_tokens) || DEFAULT_OUTPUT_TOKENS };
  }

  protected okBody(model: string, _body: any, ok: AnthropicFakeOk, stats: PromptStats): unknown {
    const outputTokens = ok.usage?.output_tokens ?? Math.min(stats.maxTokens, DEFAULT_OUTPUT_TOKENS);
    const content: unknown[] = [];
    if (ok.thinking !== undefined)
      content.push({
        type: 'thinking',
        thinking: ok.thinking,
        signature: randomBytes(16).toString('base64'),
      });
    content.push({ type: 'text', text: ok.text ?? `Fake answer from ${model}.` });
    return {
      id: `msg_${randomBytes(12).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: outputTokens >= stats.maxTokens ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: ok.usage?.input_tokens ?? estimateTokens(stats.promptChars),
        cache_creation_input_tokens: ok.usage?.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: ok.usage?.cache_read_input_tokens ?? 0,
        output_tokens: outputTokens,
        service_tier: 'standard',
      },
    };
  }

  protected errorBody(status: number, message: string): unknown {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message }, request_id: `req_${randomBytes(12).toString('hex')}` };
  }

  // x-should-retry asks the SDK to retry: with maxRetries 0 it must still make one call only.
  protected override errorHeaders(status: number): Record<string, string> {
    const retry = status === 429 || status >= 500;
    return { 'request-id': `req_${randomBytes(12).toString('hex')}`, 'x-should-retry': String(retry) };
  }
}

function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  return content.reduce<number>((n, b) => n + (typeof b?.text === 'string' ? b.text.length : 0), 0);
}
