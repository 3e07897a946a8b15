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

export interface LocalProviderOptions {
  /** Simulated model latency, so flows and benchmarks see calls that take time; 0 answers at once. */
  latencyMs?: number;
}

const WORDS = [
  'audience',
  'brand',
  'campaign',
  'channel',
  'conversion',
  'creative',
  'insight',
  'launch',
  'message',
  'offer',
  'positioning',
  'retention',
  'segment',
  'signal',
  'story',
  'trend',
];

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
    if (this.latencyMs > 0) await sleep(this.latencyMs, req.signal);
    const prompt = [req.system ?? '', ...req.messages.map((m) => `${m.role}: ${m.content}`)].join('\n');
    const digest = createHash('sha256').update(req.model).update('\0').update(prompt).digest();
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const text = compose(lastUser, digest, req.maxTokens);
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

/** A few numbered points about the request's subject; length depends on the digest, capped by maxTokens. */
function compose(subject: string, digest: Buffer, maxTokens: number): string {
  const topic = subject.replace(/\s+/g, ' ').trim().slice(0, 80) || 'the request';
  const points = 3 + (digest[0]! % 3);
  const lines = [`Notes on ${topic}:`];
  for (let i = 0; i < points; i++) {
    const a = WORDS[digest[(i * 2 + 1) % digest.length]! % WORDS.length]!;
    const b = WORDS[digest[(i * 2 + 2) % digest.length]! % WORDS.length]!;
    lines.push(`${i + 1}. Focus the ${a} on the ${b} that matters most for ${topic}.`);
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
