import type { LlmSettings } from '@raptorflow/core/config/settings';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import type { BudgetLedgerService } from './budget-ledger.service';
import { DispatchAdmission } from './dispatch-admission';
import type { DispatchContext } from './dispatch-admission';
import { digest, ZERO_USAGE } from './dispatch-trail.service';
import type { DispatchTrailService } from './dispatch-trail.service';
import {
  checkVectors,
  embedBatches,
  embedTokenEstimate,
  embedTokenUpperBound,
} from './embeddings/embed-batches';
import { unitVector } from './embeddings/local-embedder';
import { ProviderError } from './llm.types';
import type {
  ChatMessage,
  EmbedProviderResponse,
  EmbedTask,
  ProviderName,
  ProviderRequest,
  ProviderResponse,
  ResponseSchema,
  TokenUsage,
} from './llm.types';
import type { ModelRouter, ResolvedRoute } from './model-router';
import { nanoToNumber, worstCaseNanoUsd } from '@raptorflow/core/money/money';
import { promptTokenUpperBound } from './token-estimate';

export type { DispatchContext } from './dispatch-admission';

export interface DispatchRequest {
  /** An alias (`fast`, `standard`, `heavy`) or a priced model id. */
  model: string;
  messages: readonly ChatMessage[];
  system?: string;
  maxTokens?: number;
  /** A JSON answer of this schema, through the provider's native structured output (see llm.types.ts). */
  responseSchema?: ResponseSchema;
  /**
   * Streams the answer through the provider's streaming API, calling this with each piece of text. A stream
   * that breaks after its first piece fails the dispatch (model_unavailable) with no retry and no fallback:
   * the text already delivered cannot be taken back. One that fails before it is retried as usual.
   */
  onText?: (delta: string) => void;
}

export interface DispatchResult {
  text: string;
  model: string;
  provider: ProviderName;
  alias: string | null;
  usage: TokenUsage;
  costNano: bigint;
  costUsd: number;
  costLogId: string;
  attempts: number;
  latencyMs: number;
}

/** A dispatch as clients see it (the HTTP API and the Model Dispatch Tool): snake_case, money as a number. */
export function dispatchResultView(r: DispatchResult) {
  return {
    text: r.text,
    model: r.model,
    provider: r.provider,
    alias: r.alias,
    usage: {
      input_tokens: r.usage.inputTokens,
      output_tokens: r.usage.outputTokens,
      cached_input_tokens: r.usage.cachedInputTokens,
      cache_write_tokens: r.usage.cacheWriteTokens,
      thinking_tokens: r.usage.thinkingTokens,
    },
    cost_usd: r.costUsd,
    cost_log_id: r.costLogId,
  };
}

export type DispatchResultView = ReturnType<typeof dispatchResultView>;

export interface ModelDispatcherOptions {
  settings: LlmSettings;
  router: ModelRouter;
  ledger: BudgetLedgerService;
  trail: DispatchTrailService;
  /** Off only in benchmarks and for operators who must bypass budgets (refused in production by config). */
  budgetEnforcement?: boolean;
  random?: () => number;
}

export interface EmbedRequest {
  /** `embed` (the default) or an embedding model id the catalog prices. */
  model?: string;
  texts: readonly string[];
  dimensions: number;
  task: EmbedTask;
}

export interface EmbedResult {
  /** Unit vectors, one per text, in order. */
  vectors: number[][];
  model: string;
  provider: ProviderName;
  /** `provider:model` of who really answered (the stand-in says `local:`): stored beside each vector. */
  embeddingModel: string;
  alias: string | null;
  inputTokens: number;
  costNano: bigint;
  costUsd: number;
  /** One cost row per provider request (batch). */
  costLogIds: string[];
  latencyMs: number;
}

/**
 * One provider attempt. A streamed attempt that fails after delivering text is marked `partial`, which the
 * retry loop treats as final for the whole dispatch.
 */
async function generateOnce(route: ResolvedRoute, req: ProviderRequest): Promise<ProviderResponse> {
  const onText = req.onText;
  if (!onText) return route.provider.generate(req);
  let delivered = false;
  const tracked = (delta: string) => {
    delivered = true;
    onText(delta);
  };
  try {
    return await route.provider.generate({ ...req, onText: tracked });
  } catch (err) {
    if (!delivered) throw err;
    const e = err instanceof ProviderError ? err : new ProviderError('network', String(err));
    throw new ProviderError(e.kind, e.message, { ...e.opts, partial: true });
  }
}

/**
 * The one door to every LLM (SPEC §10): resolves the model chain, admits the call against the workspace
 * budget before any provider is called, runs the only retry loop (429/5xx/timeouts, honouring Retry-After,
 * then the next model of the chain), and records every outcome.
 */
export class ModelDispatcher {
  private readonly s: LlmSettings;
  readonly router: ModelRouter;
  private readonly admission: DispatchAdmission;

  constructor(opts: ModelDispatcherOptions) {
    this.s = opts.settings;
    this.router = opts.router;
    this.admission = new DispatchAdmission({
      settings: opts.settings,
      ledger: opts.ledger,
      trail: opts.trail,
      pricingVersion: opts.router.catalog.version,
      enforce: opts.budgetEnforcement ?? this.s.budgetEnforcement,
      random: opts.random ?? Math.random,
    });
  }

  async dispatch(req: DispatchRequest, ctx: DispatchContext = {}): Promise<DispatchResult> {
    const { alias, chain } = this.router.resolve(req.model, 'chat');
    const primary = chain[0]!;
    const maxTokens = req.maxTokens ?? Math.min(this.s.defaultMaxTokens, primary.pricing.maxOutputTokens);
    if (maxTokens > primary.pricing.maxOutputTokens) {
      const message = `max_tokens ${maxTokens} is above ${primary.model}'s limit of ${primary.pricing.maxOutputTokens}`;
      throw new ValidationFailedError(message, [{ path: 'body.max_tokens', message }]);
    }
    // The schema travels with the prompt (and the providers bill it as input), so it counts in the bound.
    const schemaText = req.responseSchema ? JSON.stringify(req.responseSchema.schema) : undefined;
    const promptBound = promptTokenUpperBound(req.messages, req.system, schemaText);
    const done = await this.admission.run<ProviderResponse>({
      operation: 'chat',
      model: req.model,
      alias,
      chain,
      ctx,
      worstCase: (r) =>
        worstCaseNanoUsd(r.pricing, promptBound, Math.min(maxTokens, r.pricing.maxOutputTokens)),
      auditInput: {
        max_tokens: maxTokens,
        messages: req.messages.length,
        digest: digest({ system: req.system ?? null, messages: req.messages }),
        ...(req.responseSchema ? { response_schema: req.responseSchema.name } : {}),
        ...(req.onText ? { stream: true } : {}),
      },
      call: (route, signal) =>
        generateOnce(route, {
          model: route.model,
          messages: req.messages,
          system: req.system,
          maxTokens: Math.min(maxTokens, route.pricing.maxOutputTokens),
          signal,
          responseSchema: req.responseSchema,
          onText: req.onText,
        }),
      settle: (r) => ({
        usage: r.usage,
        auditOutput: { digest: digest(r.text), characters: r.text.length },
      }),
    });
    return {
      text: done.value.text,
      model: done.route.model,
      provider: done.route.provider.name,
      alias,
      usage: done.usage,
      costNano: done.costNano,
      costUsd: nanoToNumber(done.costNano),
      costLogId: done.costLogId,
      attempts: done.attempts,
      latencyMs: done.latencyMs,
    };
  }

  /**
   * Embeds texts with the `embed` alias (or an embedding model id), admitted and recorded like any call.
   * Texts go in batches of at most EMBED_BATCH_TEXTS / EMBED_BATCH_TOKENS per provider request, each batch
   * one dispatch with its own cost row; every batch after the first is pinned to the model that answered
   * the first, because vectors of different models cannot be compared. Vectors come back of unit length.
   */
  async embed(req: EmbedRequest, ctx: DispatchContext = {}): Promise<EmbedResult> {
    const { alias, chain } = this.router.resolve(req.model ?? 'embed', 'embedding');
    const vectors: number[][] = [];
    const costLogIds: string[] = [];
    let costNano = 0n;
    let inputTokens = 0;
    let answered: ResolvedRoute | undefined;
    const started = Date.now();
    for (const batch of embedBatches(req.texts)) {
      const done = await this.admission.run<EmbedProviderResponse>({
        operation: 'embedding',
        model: req.model ?? 'embed',
        alias,
        chain: answered ? [answered] : chain,
        ctx,
        worstCase: (r) => worstCaseNanoUsd(r.pricing, embedTokenUpperBound(batch), 0),
        auditInput: { task: req.task, texts: batch.length, digest: digest(batch) },
        call: async (route, signal) => {
          if (!route.provider.embed)
            throw new ProviderError('client_error', `${route.provider.name} cannot embed`);
          const res = await route.provider.embed({
            model: route.model,
            texts: batch,
            dimensions: req.dimensions,
            task: req.task,
            signal,
          });
          checkVectors(res.vectors, batch.length, req.dimensions);
          return res;
        },
        settle: (r) => ({
          usage: { ...ZERO_USAGE, inputTokens: r.inputTokens ?? embedTokenEstimate(batch) },
          auditOutput: { vectors: r.vectors.length, dimensions: req.dimensions },
        }),
      });
      answered = done.route;
      for (const v of done.value.vectors) vectors.push(unitVector(v));
      costLogIds.push(done.costLogId);
      costNano += done.costNano;
      inputTokens += done.usage.inputTokens;
    }
    const route = answered ?? chain[0]!;
    return {
      vectors,
      model: route.model,
      provider: route.provider.name,
      embeddingModel: `${route.provider.name}:${route.model}`,
      alias,
      inputTokens,
      costNano,
      costUsd: nanoToNumber(costNano),
      costLogIds,
      latencyMs: Date.now() - started,
    };
  }
}
