import { randomBytes } from 'node:crypto';
import { DEFAULT_OUTPUT_TOKENS, FakeLlmServer, estimateTokens } from './fake-server.base';
import type { FakeRoute, FakeStatusBehaviour, PromptStats } from './fake-server.base';

export interface GeminiFakeUsage {
  /** Everything the model read, cached part included (Gemini counts cache hits inside it). */
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiFakeOk {
  text?: string;
  /** Adds a `thought: true` part before the answer, as thinking models with includeThoughts do. */
  thought?: string;
  usage?: GeminiFakeUsage;
  finishReason?: string;
}

// Vertex AI: /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent
const VERTEX_PATH =
  /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):generateContent$/;
// Gemini API (API key): /v1beta/models/{model}:generateContent
const GEMINI_API_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):generateContent$/;

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

/** generateContent as the Gemini API and Vertex AI serve it (same body both ways; Vertex adds createTime). */
export class FakeGeminiServer extends FakeLlmServer<GeminiFakeOk> {
  protected route(method: string, pathname: string): FakeRoute | undefined {
    if (method !== 'POST') return undefined;
    const m = VERTEX_PATH.exec(pathname) ?? GEMINI_API_PATH.exec(pathname);
    return m ? { model: decodeURIComponent(m[1]!) } : undefined;
  }

  protected promptStats(body: any): PromptStats {
    let chars = partsLength(body?.systemInstruction?.parts);
    for (const c of Array.isArray(body?.contents) ? body.contents : []) chars += partsLength(c?.parts);
    const max = Number(body?.generationConfig?.maxOutputTokens);
    return { promptChars: chars, maxTokens: max > 0 ? max : DEFAULT_OUTPUT_TOKENS };
  }

  protected okBody(model: string, _body: any, ok: GeminiFakeOk, stats: PromptStats): unknown {
    const u = ok.usage ?? {};
    const prompt = u.promptTokenCount ?? estimateTokens(stats.promptChars);
    const candidates = u.candidatesTokenCount ?? Math.min(stats.maxTokens, DEFAULT_OUTPUT_TOKENS);
    const usageMetadata: Record<string, unknown> = {
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
    const parts: unknown[] = [];
    if (ok.thought !== undefined) parts.push({ text: ok.thought, thought: true });
    parts.push({ text: ok.text ?? `Fake answer from ${model}.` });
    return {
      candidates: [
        {
          content: { role: 'model', parts },
          finishReason: ok.finishReason ?? (candidates >= stats.maxTokens ? 'MAX_TOKENS' : 'STOP'),
          avgLogprobs: -0.12,
        },
      ],
      usageMetadata,
      modelVersion: model,
      createTime: new Date().toISOString(),
      responseId: randomBytes(12).toString('base64url'),
    };
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

function partsLength(parts: unknown): number {
  if (!Array.isArray(parts)) return 0;
  return parts.reduce<number>((n, p) => n + (typeof p?.text === 'string' ? p.text.length : 0), 0);
}
