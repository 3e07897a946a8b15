import { randomBytes } from 'node:crypto';
import { DEFAULT_OUTPUT_TOKENS, FakeLlmServer, estimateTokens } from './fake-server.base';
import type { FakeRoute, FakeStreamPacing, PromptStats, SseFrame } from './fake-server.base';
import { schemaAnswer } from './schema-answer';

export interface AnthropicFakeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export interface AnthropicFakeOk extends FakeStreamPacing {
  /**
   * The answer's text, verbatim. Without it: JSON sampled from `output_config.format.schema` when the
   * request asks for structured output, else `Fake answer from <model>.`
   */
  text?: string;
  /** The answer as a value, sent as its JSON text. */
  json?: unknown;
  /** Adds a `thinking` block before the text, as extended thinking does. */
  thinking?: string;
  usage?: AnthropicFakeUsage;
}

// Vertex puts the model in the path and the verb after a colon: .../publishers/anthropic/models/<model>:rawPredict
// (:streamRawPredict when the body says `stream: true`)
const VERTEX_PATH =
  /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/([^/:]+):(?:rawPredict|streamRawPredict)$/;

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

  protected okBody(model: string, body: any, ok: AnthropicFakeOk, stats: PromptStats): unknown {
    const usage = usageOf(ok, stats);
    const content: unknown[] = [];
    if (ok.thinking !== undefined)
      content.push({
        type: 'thinking',
        thinking: ok.thinking,
        signature: randomBytes(16).toString('base64'),
      });
    content.push({ type: 'text', text: this.answerText(model, body, ok) });
    return {
      id: `msg_${randomBytes(12).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason(usage, stats),
      stop_sequence: null,
      usage,
    };
  }

  protected answerText(model: string, body: any, ok: AnthropicFakeOk): string {
    if (ok.text !== undefined) return ok.text;
    if (ok.json !== undefined) return JSON.stringify(ok.json);
    const format = body?.output_config?.format;
    if (format?.type === 'json_schema' && format.schema) return schemaAnswer(format.schema, body);
    return `Fake answer from ${model}.`;
  }

  /**
   * `stream: true`: message_start (input usage), a thinking block when asked, the text block as
   * content_block_start / one text_delta per piece / content_block_stop, then message_delta with the stop
   * reason and the output usage, and message_stop, as the Messages API streams them.
   */
  protected streamFrames(
    model: string,
    _body: any,
    ok: AnthropicFakeOk,
    stats: PromptStats,
    pieces: string[],
  ): SseFrame[] {
    const usage = usageOf(ok, stats);
    const frame = (type: string, data: Record<string, unknown>): SseFrame => ({
      data: `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`,
      piece: type === 'content_block_delta' && (data.delta as { type: string }).type === 'text_delta',
    });
    const frames: SseFrame[] = [
      frame('message_start', {
        message: {
          id: `msg_${randomBytes(12).toString('hex')}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      }),
    ];
    let index = 0;
    if (ok.thinking !== undefined) {
      frames.push(
        frame('content_block_start', {
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        }),
        frame('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: ok.thinking } }),
        frame('content_block_delta', {
          index,
          delta: { type: 'signature_delta', signature: randomBytes(16).toString('base64') },
        }),
        frame('content_block_stop', { index }),
      );
      index++;
    }
    frames.push(frame('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    frames.push(frame('ping', {}));
    for (const text of pieces)
      frames.push(frame('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    frames.push(
      frame('content_block_stop', { index }),
      frame('message_delta', {
        delta: { stop_reason: stopReason(usage, stats), stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      }),
      frame('message_stop', {}),
    );
    return frames;
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

function usageOf(ok: AnthropicFakeOk, stats: PromptStats) {
  return {
    input_tokens: ok.usage?.input_tokens ?? estimateTokens(stats.promptChars),
    cache_creation_input_tokens: ok.usage?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: ok.usage?.cache_read_input_tokens ?? 0,
    output_tokens: ok.usage?.output_tokens ?? Math.min(stats.maxTokens, DEFAULT_OUTPUT_TOKENS),
    service_tier: 'standard',
  };
}

function stopReason(usage: { output_tokens: number }, stats: PromptStats): string {
  return usage.output_tokens >= stats.maxTokens ? 'max_tokens' : 'end_turn';
}

function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  return content.reduce<number>((n, b) => n + (typeof b?.text === 'string' ? b.text.length : 0), 0);
}
