import { createHash } from 'node:crypto';
import { ProviderError } from '../llm.types';
import type {
  EmbedProviderRequest,
  EmbedProviderResponse,
  LlmProvider,
  ProviderRequest,
  ProviderResponse,
} from '../llm.types';
import { localEmbedding } from '../embeddings/local-embedder';
import { realisticTokenCount } from '../token-estimate';
import { SAMPLE_WORDS as WORDS, sampleFromSchema, sampleSentence } from '../schema-sample';

export interface LocalProviderOptions {
  /** Simulated model latency, so flows and benchmarks see calls that take time; 0 answers at once. */
  latencyMs?: number;
}

/**
 * Deterministic and offline: the same request always gets the same answer and usage, so tests can assert
 * exact costs and development needs no credentials. It answers as the model it stands in for (the model
 * id is kept), so it is priced like that model.
 */
export class LocalProvider implements LlmProvider {
  readonly name = 'local' as const;
  private readonly latencyMs: number;

  constructor(opts: LocalProviderOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
  }

  async generate(req: ProviderRequest): Promise<ProviderResponse> {
    if (req.signal.aborted) throw new ProviderError('aborted', 'local call aborted before start');
    // A streamed answer spends the latency between its pieces instead.
    if (this.latencyMs > 0 && !req.onText) await sleep(this.latencyMs, req.signal);
    const prompt = [req.system ?? '', ...req.messages.map((m) => `${m.role}: ${m.content}`)].join('\n');
    const digest = createHash('sha256').update(req.model).update('\0').update(prompt).digest();
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    // A structured request gets JSON of its schema (never cut to max_tokens: cut JSON is no answer at all).
    const schema = req.responseSchema?.schema;
    const text = schema
      ? JSON.stringify(sampleFromSchema(schema, { seed: digest, topic: subjectOf(lastUser) }))
      : compose(lastUser, digest, req.maxTokens);
    if (req.onText) await this.stream(text, req.onText, req.signal);
    return {
      text,
      model: req.model,
      usage: {
        inputTokens: realisticTokenCount(prompt),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: Math.min(req.maxTokens, realisticTokenCount(text)),
        thinkingTokens: 0,
      },
    };
  }

  /** The answer in a few pieces, spread over the simulated latency, as a streaming API would deliver it. */
  private async stream(text: string, onText: (delta: string) => void, signal: AbortSignal): Promise<void> {
    const pieces = Math.min(STREAM_PIECES, Math.max(1, text.length));
    const size = Math.ceil(text.length / pieces);
    for (let i = 0; i < text.length; i += size) {
      if (this.latencyMs > 0) await sleep(this.latencyMs / pieces, signal);
      if (signal.aborted) throw new ProviderError('aborted', 'local call aborted');
      onText(text.slice(i, i + size));
    }
  }

  /** Hashed word and character n-grams (see local-embedder.ts): similar texts really are near. */
  async embed(req: EmbedProviderRequest): Promise<EmbedProviderResponse> {
    if (req.signal.aborted) throw new ProviderError('aborted', 'local call aborted before start');
    if (this.latencyMs > 0) await sleep(this.latencyMs, req.signal);
    return {
      vectors: req.texts.map((t) => localEmbedding(t, req.dimensions)),
      model: req.model,
      inputTokens: req.texts.reduce((n, t) => n + realisticTokenCount(t), 0),
    };
  }
}

const STREAM_PIECES = 8;

/** The prompt's first line, the request's subject (flows put it there), for the sentences of a JSON answer. */
function subjectOf(prompt: string): string {
  const first = prompt.split('\n').find((l) => l.trim()) ?? '';
  return first.replace(/^[^:]{1,40}:\s*/, '');
}

/** A few numbered points about the request's subject; length depends on the digest, capped by maxTokens. */
function compose(subject: string, digest: Buffer, maxTokens: number): string {
  const topic = subject.replace(/\s+/g, ' ').trim().slice(0, 80) || 'the request';
  const points = 3 + (digest[0]! % 3);
  const lines = [`Notes on ${topic}:`];
  for (let i = 0; i < points; i++) {
    const a = WORDS[digest[(i * 2 + 1) % digest.length]! % WORDS.length]!;
    const b = WORDS[digest[(i * 2 + 2) % digest.length]! % WORDS.length]!;
    lines.push(`${i + 1}. ${sampleSentence(a, b, topic)}`);
  }
  const text = lines.join('\n');
  // Never return more than max_tokens worth of text (≈ 4 characters a token).
  return text.slice(0, Math.max(4, maxTokens * 4));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderError('aborted', 'local call aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
