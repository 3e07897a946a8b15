import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { getLogger } from '@raptorflow/core/logging/logger';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { BudgetLedgerService, Reservation } from './budget-ledger.service';
import type { ProviderName, TokenUsage } from './llm.types';
import { nanoToDecimal, nanoToNumber } from '@raptorflow/core/money/money';

export interface DispatchActor {
  workspaceId: string;
  actorUserId: string | null;
  agentRunId: string | null;
  agentId: string | null;
  correlationId: string | null;
}

export interface DispatchOutcome {
  /** A chat completion, or an embedding batch (audited as `model.embed`). */
  operation: 'chat' | 'embedding';
  outcome: 'success' | 'failed' | 'cancelled';
  alias: string | null;
  provider: ProviderName;
  model: string;
  usage: TokenUsage;
  costNano: bigint;
  latencyMs: number;
  attempts: number;
  errorCode: string | null;
  /** The catalog the call was priced with (package version + operator file hash): history is never re-priced. */
  pricingVersion: string;
  /** What the audit row says about the request: sizes and a digest, never the prompt itself. */
  auditInput: Record<string, unknown>;
  /** The same for the answer; null when there was none. */
  auditOutput: Record<string, unknown> | null;
}

export const ZERO_USAGE: TokenUsage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  thinkingTokens: 0,
};

export interface DispatchTrailOptions {
  db: Knex;
  /** How long a record keeps retrying while PostgreSQL is unreachable (the money is already spent). */
  retryForMs?: number;
  bus: RaptorBus;
  audit: AuditLogService;
}

/**
 * The record of every dispatch (SPEC §10): the budget settlement, the cost row, the audit row and the
 * `cost.recorded` outbox event commit in ONE transaction, so spend is never counted without its record
 * or recorded without being counted. Prompts and answers are stored only as digests.
 */
export class DispatchTrailService {
  private readonly db: Knex;
  private readonly costs: CostLogRepository;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;
  private readonly retryForMs: number;

  constructor(opts: DispatchTrailOptions) {
    this.db = opts.db;
    this.costs = new CostLogRepository(this.db);
    this.retryForMs = opts.retryForMs ?? 60_000;
    this.bus = opts.bus;
    this.audit = opts.audit;
  }

  async record(
    actor: DispatchActor,
    o: DispatchOutcome,
    ledger: BudgetLedgerService | undefined,
    reservation: Reservation | undefined,
  ): Promise<string> {
    // The id is chosen here so a retry after a commit whose answer was lost can tell it already happened.
    const costLogId = randomUUID();
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write(costLogId, actor, o, ledger, reservation);
        break;
      } catch (err) {
        if (!isTransientDbError(err) || Date.now() >= deadline) {
          // Last resort: the line carries everything needed to restore the record by hand.
          getLogger().error(
            {
              err,
              cost_log_id: costLogId,
              workspace_id: actor.workspaceId,
              model: o.model,
              cost_usd: nanoToDecimal(o.costNano),
              reservation_id: reservation?.id,
            },
            'could not record a model dispatch',
          );
          throw err;
        }
        if (await this.exists(costLogId)) break;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
    observe(o);
    return costLogId;
  }

  private async exists(costLogId: string): Promise<boolean> {
    try {
      return await this.costs.exists(costLogId);
    } catch {
      return false;
    }
  }

  private async write(
    costLogId: string,
    actor: DispatchActor,
    o: DispatchOutcome,
    ledger: BudgetLedgerService | undefined,
    reservation: Reservation | undefined,
  ): Promise<void> {
    await this.db.transaction(async (trx) => {
      await this.costs.insert(trx, {
        id: costLogId,
        workspace_id: actor.workspaceId,
        agent_run_id: actor.agentRunId,
        reservation_id: reservation?.id ?? null,
        actor_user_id: actor.actorUserId,
        provider: o.provider,
        model: o.model,
        alias: o.alias,
        input_tokens: o.usage.inputTokens,
        output_tokens: o.usage.outputTokens,
        cached_input_tokens: o.usage.cachedInputTokens,
        cache_write_tokens: o.usage.cacheWriteTokens,
        thinking_tokens: o.usage.thinkingTokens,
        cost_usd: nanoToDecimal(o.costNano),
        pricing_version: o.pricingVersion,
        correlation_id: actor.correlationId,
        outcome: o.outcome,
        error_code: o.errorCode,
        latency_ms: o.latencyMs,
        attempts: o.attempts,
      });
      const id = costLogId;
      await this.audit.record(
        {
          action: o.operation === 'embedding' ? 'model.embed' : 'model.dispatch',
          toolName: o.operation === 'embedding' ? 'model.embed' : 'model.dispatch',
          workspaceId: actor.workspaceId,
          actorType: actor.agentRunId ? 'agent' : actor.actorUserId ? 'user' : 'system',
          actorId: actor.agentRunId ? (actor.agentId ?? actor.agentRunId) : actor.actorUserId,
          agentRunId: actor.agentRunId ?? undefined,
          correlationId: actor.correlationId ?? undefined,
          resourceType: 'cost_log',
          resourceId: id,
          input: { model: o.alias ?? o.model, ...o.auditInput },
          output: o.auditOutput,
          metadata: {
            outcome: o.outcome,
            provider: o.provider,
            model: o.model,
            attempts: o.attempts,
            latency_ms: o.latencyMs,
            cost_usd: nanoToDecimal(o.costNano),
            error_code: o.errorCode,
          },
        },
        trx,
      );
      await this.bus.publish(
        'cost.recorded',
        { cost_log_id: id, model: o.model, cost_usd: nanoToDecimal(o.costNano) },
        { trx, workspaceId: actor.workspaceId, correlationId: actor.correlationId ?? undefined },
      );
      // Last, so the workspace's budget row stays locked only for the commit: concurrent calls of the same
      // workspace queue on that lock, not on this transaction's other inserts.
      if (ledger && reservation) {
        if (o.outcome === 'success') await ledger.settle(reservation, o.costNano, trx);
        else await ledger.release(reservation, trx);
      }
    });
  }
}

function observe(o: DispatchOutcome): void {
  const m = getMetrics();
  const labels = { provider: o.provider, model: o.model };
  m.llmCallsTotal.inc({ ...labels, outcome: o.outcome });
  m.llmCallDuration.observe({ ...labels, outcome: o.outcome }, o.latencyMs / 1000);
  const kinds: Array<[string, number]> = [
    ['input', o.usage.inputTokens],
    ['cached_input', o.usage.cachedInputTokens],
    ['cache_write', o.usage.cacheWriteTokens],
    ['output', o.usage.outputTokens],
    ['thinking', o.usage.thinkingTokens],
  ];
  for (const [kind, n] of kinds) if (n > 0) m.llmTokensTotal.inc({ ...labels, kind }, n);
  if (o.costNano > 0n) m.llmCostUsdTotal.inc(labels, nanoToNumber(o.costNano));
}

export function digest(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
