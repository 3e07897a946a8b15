import type { LlmSettings } from '@raptorflow/core/config/settings';
import { getContext } from '@raptorflow/core/context/request-context';
import {
  AppError,
  BudgetExceededError,
  CancelledError,
  ModelUnavailableError,
} from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { costNanoUsd } from '@raptorflow/core/money/money';
import type { BudgetLedgerService, Reservation } from './budget-ledger.service';
import { ZERO_USAGE } from './dispatch-trail.service';
import type { DispatchTrailService } from './dispatch-trail.service';
import type { DispatchActor, DispatchOutcome } from './dispatch-trail.rows';
import type { TokenUsage } from './llm.types';
import type { ResolvedRoute } from './model-router';
import { attemptRoute } from './route-attempts';
import { inDispatchSpan } from './dispatch-span';
import type { AttemptLog } from './route-attempts';

export interface DispatchContext {
  /** Defaults come from the request/job context. */
  workspaceId?: string;
  actorUserId?: string | null;
  agentRunId?: string | null;
  agentId?: string | null;
  correlationId?: string | null;
  /** Cancels the call wherever it is: waiting for a slot, backing off, or in flight. */
  signal?: AbortSignal;
  /**
   * Writes of the caller that must be committed before the provider is called (a run's previous step: were
   * the process to die before it commits, that step would run again, and so would this call). Awaited after
   * the budget is reserved, so the two overlap; a rejection gives the reservation back and is the call's
   * error, with no provider called and nothing recorded.
   */
  before?: () => Promise<void>;
}

/** One admitted call as `admitted` runs it: what to reserve, what to call, what the answer cost. */
export interface AdmittedCall<T> {
  operation: 'chat' | 'embedding';
  model: string;
  alias: string | null;
  chain: ResolvedRoute[];
  ctx: DispatchContext;
  worstCase: (route: ResolvedRoute) => bigint;
  auditInput: Record<string, unknown>;
  call: (route: ResolvedRoute, signal: AbortSignal) => Promise<T>;
  settle: (value: T) => { usage: TokenUsage; auditOutput: Record<string, unknown> };
}

export interface Admitted<T> {
  value: T;
  route: ResolvedRoute;
  usage: TokenUsage;
  costNano: bigint;
  costLogId: string;
  attempts: number;
  latencyMs: number;
}

const pick = (o: DispatchOutcome) => ({ attempts: o.attempts, latencyMs: o.latencyMs });

export interface DispatchAdmissionOptions {
  settings: LlmSettings;
  ledger: BudgetLedgerService;
  trail: DispatchTrailService;
  /** Stamped on every cost row: the catalog the call was priced with. */
  pricingVersion: string;
  enforce: boolean;
  random: () => number;
}

/**
 * What every model call goes through, chat or embedding: budget admission, the chain with its one retry
 * loop, and the record of the outcome (see ModelDispatcher for the two kinds of call).
 */
export class DispatchAdmission {
  private readonly s: LlmSettings;
  private readonly ledger: BudgetLedgerService;
  private readonly trail: DispatchTrailService;
  private readonly pricingVersion: string;
  private readonly enforce: boolean;
  private readonly random: () => number;

  constructor(o: DispatchAdmissionOptions) {
    this.s = o.settings;
    this.ledger = o.ledger;
    this.trail = o.trail;
    this.pricingVersion = o.pricingVersion;
    this.enforce = o.enforce;
    this.random = o.random;
  }

  /**
   * Admission, the chain with its retries, and the record: the budget is reserved at the chain's first
   * model's worst case before any provider is called (raised when a fallback costs more), and every outcome
   * is recorded with its cost row, audit row and settlement in one transaction.
   */
  run<T>(p: AdmittedCall<T>): Promise<Admitted<T>> {
    const actor = this.actorFrom(p.ctx);
    return inDispatchSpan(p, actor.workspaceId, () => this.admit(p, actor));
  }

  private async admit<T>(p: AdmittedCall<T>, actor: DispatchActor): Promise<Admitted<T>> {
    const primary = p.chain[0]!;
    let reservation: Reservation | undefined;
    if (this.enforce) {
      try {
        reservation = await this.ledger.reserve({
          workspaceId: actor.workspaceId,
          amountNano: p.worstCase(primary),
          model: primary.model,
          agentRunId: actor.agentRunId,
          correlationId: actor.correlationId,
        });
      } catch (err) {
        if (err instanceof BudgetExceededError) getMetrics().budgetRejectionsTotal.inc();
        throw err;
      }
    }
    if (p.ctx.before) {
      try {
        await p.ctx.before();
      } catch (err) {
        if (reservation)
          await this.ledger
            .release(reservation)
            .catch((releaseErr: unknown) =>
              getLogger().error({ err: releaseErr }, 'could not release a reservation; it expires'),
            );
        throw err;
      }
    }
    const started = Date.now();
    const attempts: AttemptLog[] = [];
    const options = {
      settings: this.s,
      deadline: started + this.s.deadlineMs,
      attempts,
      callerSignal: p.ctx.signal,
      random: this.random,
    };
    const base = {
      operation: p.operation,
      alias: p.alias,
      pricingVersion: this.pricingVersion,
      auditInput: p.auditInput,
    };
    let last: ResolvedRoute = primary;
    try {
      for (const route of p.chain) {
        last = route;
        if (reservation && route !== primary) await this.ledger.raise(reservation, p.worstCase(route));
        const value = await attemptRoute(route, options, (signal) => p.call(route, signal));
        if (value === undefined) continue;
        const { usage, auditOutput } = p.settle(value);
        const costNano = costNanoUsd(route.pricing, usage);
        const outcome: DispatchOutcome = {
          ...base,
          outcome: 'success',
          provider: route.provider.name,
          model: route.model,
          usage,
          costNano,
          latencyMs: Date.now() - started,
          attempts: attempts.length + 1,
          errorCode: null,
          auditOutput,
        };
        const ledger = this.enforce ? this.ledger : undefined;
        const costLogId = await this.trail.record(actor, outcome, ledger, reservation);
        return { value, route, usage, costNano, costLogId, ...pick(outcome) };
      }
      const timedOut = attempts.length > 0 && attempts.at(-1)!.kind === 'timeout';
      throw new ModelUnavailableError(
        timedOut ? 'The model did not answer in time' : 'No model in the chain could answer',
        { model: p.model, attempts },
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
            auditOutput: null,
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
