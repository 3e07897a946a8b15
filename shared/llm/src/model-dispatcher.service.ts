import type { LlmSettings } from '@raptorflow/core/config/settings';
import { getContext } from '@raptorflow/core/context/request-context';
import {
  AppError,
  BudgetExceededError,
  CancelledError,
  ModelUnavailableError,
  ValidationFailedError,
} from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { BudgetLedgerService, Reservation } from './budget-ledger.service';
import { ZERO_USAGE } from './dispatch-trail.service';
import type { DispatchActor, DispatchTrailService, DispatchOutcome } from './dispatch-trail.service';
import { ProviderError } from './llm.types';
import type { ChatMessage, ProviderName, ProviderResponse, TokenUsage } from './llm.types';
import type { ModelRouter, ResolvedRoute } from './model-router';
import { costNanoUsd, nanoToNumber, worstCaseNanoUsd } from '@raptorflow/core/money/money';
import { AbortedError, backoffMs, sleep } from './retry-policy';
import { promptTokenUpperBound } from './token-estimate';

export interface DispatchRequest {
  /** An alias (`fast`, `standard`, `heavy`) or a priced model id. */
  model: string;
  messages: readonly ChatMessage[];
  system?: string;
  maxTokens?: number;
}

export interface DispatchContext {
  /** Defaults come from the request/job context. */
  workspaceId?: string;
  actorUserId?: string | null;
  agentRunId?: string | null;
  agentId?: string | null;
  correlationId?: string | null;
  /** Cancels the call wherever it is: waiting for a slot, backing off, or in flight. */
  signal?: AbortSignal;
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

interface AttemptLog {
  model: string;
  provider: ProviderName;
  kind: string;
  status?: number;
}

/**
 * The one door to every LLM (SPEC §10): resolves the model chain, admits the call against the workspace
 * budget before any provider is called, runs the only retry loop (429/5xx/timeouts, honouring Retry-After,
 * then the next model of the chain), and records every outcome.
 */
export class ModelDispatcher {
  private readonly s: LlmSettings;
  readonly router: ModelRouter;
  private readonly ledger: BudgetLedgerService;
  private readonly trail: DispatchTrailService;
  private readonly enforce: boolean;
  private readonly random: () => number;

  constructor(opts: ModelDispatcherOptions) {
    this.s = opts.settings;
    this.router = opts.router;
    this.ledger = opts.ledger;
    this.trail = opts.trail;
    this.enforce = opts.budgetEnforcement ?? this.s.budgetEnforcement;
    this.random = opts.random ?? Math.random;
  }

  async dispatch(req: DispatchRequest, ctx: DispatchContext = {}): Promise<DispatchResult> {
    const actor = this.actorFrom(ctx);
    const { alias, chain } = this.router.resolve(req.model);
    const primary = chain[0]!;
    const maxTokens = req.maxTokens ?? Math.min(this.s.defaultMaxTokens, primary.pricing.maxOutputTokens);
    if (maxTokens > primary.pricing.maxOutputTokens) {
      const message = `max_tokens ${maxTokens} is above ${primary.model}'s limit of ${primary.pricing.maxOutputTokens}`;
      throw new ValidationFailedError(message, [{ path: 'body.max_tokens', message }]);
    }
    const promptBound = promptTokenUpperBound(req.messages, req.system);
    const worstCase = (r: ResolvedRoute) =>
      worstCaseNanoUsd(r.pricing, promptBound, Math.min(maxTokens, r.pricing.maxOutputTokens));

    let reservation: Reservation | undefined;
    if (this.enforce) {
      try {
        reservation = await this.ledger.reserve({
          workspaceId: actor.workspaceId,
          amountNano: worstCase(primary),
          model: primary.model,
          agentRunId: actor.agentRunId,
          correlationId: actor.correlationId,
        });
      } catch (err) {
        if (err instanceof BudgetExceededError) getMetrics().budgetRejectionsTotal.inc();
        throw err;
      }
    }

    const started = Date.now();
    const deadline = started + this.s.deadlineMs;
    const attempts: AttemptLog[] = [];
    const base = {
      alias,
      pricingVersion: this.router.catalog.version,
      request: { messages: req.messages, system: req.system, maxTokens },
    };
    let last: ResolvedRoute = primary;
    try {
      for (const route of chain) {
        last = route;
        if (reservation && route !== primary) await this.ledger.raise(reservation, worstCase(route));
        const response = await this.tryRoute(route, req, maxTokens, deadline, attempts, ctx.signal);
        if (!response) continue;
        const costNano = costNanoUsd(route.pricing, response.usage);
        const outcome: DispatchOutcome = {
          ...base,
          outcome: 'success',
          provider: route.provider.name,
          model: route.model,
          usage: response.usage,
          costNano,
          latencyMs: Date.now() - started,
          attempts: attempts.length + 1,
          errorCode: null,
          text: response.text,
        };
        const costLogId = await this.trail.record(
          actor,
          outcome,
          this.enforce ? this.ledger : undefined,
          reservation,
        );
        return {
          text: response.text,
          model: route.model,
          provider: route.provider.name,
          alias,
          usage: response.usage,
          costNano,
          costUsd: nanoToNumber(costNano),
          costLogId,
          attempts: outcome.attempts,
          latencyMs: outcome.latencyMs,
        };
      }
      const timedOut = attempts.length > 0 && attempts.at(-1)!.kind === 'timeout';
      throw new ModelUnavailableError(
        timedOut ? 'The model did not answer in time' : 'No model in the chain could answer',
        { model: req.model, attempts },
        timedOut,
      );
    } catch (err) {
      const cancelled = err instanceof CancelledError;
      const code = err instanceof AppError ? err.code : 'internal_error';
      await this.trail
        .record(
          actor,
          {
            ...base,
            outcome: cancelled ? 'cancelled' : 'failed',
            provider: last.provider.name,
            model: last.model,
            usage: ZERO_USAGE,
            costNano: 0n,
            latencyMs: Date.now() - started,
            attempts: attempts.length,
            errorCode: code,
            text: null,
          },
          this.enforce ? this.ledger : undefined,
          reservation,
        )
        .catch((recordErr: unknown) =>
          // The reservation then expires and is reclaimed; the caller still gets the original error.
          getLogger().error({ err: recordErr, code }, 'could not record a failed model dispatch'),
        );
      throw err;
    }
  }

  /** Retries one model; returns undefined to move on to the next model of the chain. */
  private async tryRoute(
    route: ResolvedRoute,
    req: DispatchRequest,
    maxTokens: number,
    deadline: number,
    attempts: AttemptLog[],
    callerSignal: AbortSignal | undefined,
  ): Promise<ProviderResponse | undefined> {
    for (let attempt = 1; attempt <= this.s.maxAttempts; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      try {
        await route.limiter.acquire(callerSignal);
      } catch (err) {
        if (err instanceof AbortedError) throw new CancelledError();
        throw err;
      }
      const timeout = AbortSignal.timeout(Math.min(this.s.timeoutMs, remaining));
      const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
      try {
        return await route.provider.generate({
          model: route.model,
          messages: req.messages,
          system: req.system,
          maxTokens: Math.min(maxTokens, route.pricing.maxOutputTokens),
          signal,
        });
      } catch (raw) {
        if (callerSignal?.aborted) throw new CancelledError();
        const err =
          raw instanceof ProviderError
            ? raw
            : new ProviderError('network', raw instanceof Error ? raw.message : 'error');
        const kind = timeout.aborted ? 'timeout' : err.kind;
        attempts.push({ model: route.model, provider: route.provider.name, kind, status: err.opts.status });
        getLogger().warn(
          { provider: route.provider.name, model: route.model, kind, status: err.opts.status, attempt },
          'model call failed',
        );
        const retryable = kind === 'timeout' || err.retryable;
        if (!retryable || attempt === this.s.maxAttempts) return undefined;
        const delay =
          err.opts.retryAfterMs ?? backoffMs(attempt, this.s.retryBaseMs, this.s.retryMaxMs, this.random);
        // A Retry-After beyond the deadline is no use: fall back to the next model instead of waiting.
        if (Date.now() + delay >= deadline) return undefined;
        try {
          await sleep(delay, callerSignal);
        } catch {
          throw new CancelledError();
        }
      }
    }
    return undefined;
  }

  private actorFrom(ctx: DispatchContext): DispatchActor {
    const rc = getContext();
    const workspaceId = ctx.workspaceId ?? rc?.workspaceId;
    if (!workspaceId) throw new Error('ModelDispatcher.dispatch needs a workspace (context or argument)');
    return {
      workspaceId,
      actorUserId: ctx.actorUserId !== undefined ? ctx.actorUserId : (rc?.userId ?? null),
      agentRunId: ctx.agentRunId ?? null,
      agentId: ctx.agentId ?? null,
      correlationId: ctx.correlationId !== undefined ? ctx.correlationId : (rc?.correlationId ?? null),
    };
  }
}
