import type { LlmSettings } from '@raptorflow/core/config/settings';
import { CancelledError, ModelUnavailableError } from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { ProviderError } from './llm.types';
import type { ProviderName } from './llm.types';
import type { ResolvedRoute } from './model-router';
import { AbortedError, backoffMs, sleep } from './retry-policy';

/** One failed provider call, as the dispatcher reports it when the whole chain gives up. */
export interface AttemptLog {
  model: string;
  provider: ProviderName;
  kind: string;
  status?: number;
}

export interface RouteAttemptOptions {
  settings: LlmSettings;
  /** No attempt starts, and no backoff is waited out, past this instant (epoch ms). */
  deadline: number;
  /** Every failed attempt is appended here, across the routes of one dispatch. */
  attempts: AttemptLog[];
  callerSignal: AbortSignal | undefined;
  random: () => number;
}

/**
 * The system's one retry loop, for one model of a chain: paces each attempt through the provider's rate
 * limiter, bounds it by the call timeout and the dispatch deadline, retries 429/5xx/network/timeouts with
 * backoff (or the provider's Retry-After), and returns undefined to move on to the next model of the chain.
 * A caller cancel is a CancelledError at once, wherever the call is. Chat and embedding calls share it.
 */
export async function attemptRoute<T>(
  route: ResolvedRoute,
  o: RouteAttemptOptions,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  const s = o.settings;
  for (let attempt = 1; attempt <= s.maxAttempts; attempt++) {
    const remaining = o.deadline - Date.now();
    if (remaining <= 0) return undefined;
    try {
      await route.limiter.acquire(o.callerSignal);
    } catch (err) {
      if (err instanceof AbortedError) throw new CancelledError();
      throw err;
    }
    const timeout = AbortSignal.timeout(Math.min(s.timeoutMs, remaining));
    const signal = o.callerSignal ? AbortSignal.any([o.callerSignal, timeout]) : timeout;
    try {
      return await call(signal);
    } catch (raw) {
      if (o.callerSignal?.aborted) throw new CancelledError();
      const err =
        raw instanceof ProviderError
          ? raw
          : new ProviderError('network', raw instanceof Error ? raw.message : 'error');
      const kind = timeout.aborted ? 'timeout' : err.kind;
      o.attempts.push({ model: route.model, provider: route.provider.name, kind, status: err.opts.status });
      getLogger().warn(
        { provider: route.provider.name, model: route.model, kind, status: err.opts.status, attempt },
        'model call failed',
      );
      // Part of the answer was streamed to the caller already: another attempt (or model) would stream a
      // second, different answer after it, so the dispatch ends here.
      if (err.opts.partial)
        throw new ModelUnavailableError(
          'The model stopped answering mid-stream',
          { model: route.model, attempts: o.attempts, partial: true },
          kind === 'timeout',
        );
      const retryable = kind === 'timeout' || err.retryable;
      if (!retryable || attempt === s.maxAttempts) return undefined;
      const delay = err.opts.retryAfterMs ?? backoffMs(attempt, s.retryBaseMs, s.retryMaxMs, o.random);
      // A Retry-After beyond the deadline is no use: fall back to the next model instead of waiting.
      if (Date.now() + delay >= o.deadline) return undefined;
      try {
        await sleep(delay, o.callerSignal);
      } catch {
        throw new CancelledError();
      }
    }
  }
  return undefined;
}
