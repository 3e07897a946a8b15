import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { getBus } from '../bus/raptor-bus';
import type { RaptorBus } from '../bus/raptor-bus';
import { getDatabase } from '../db/database';
import { AuditLogService } from '../domain/audit-log.service';
import { getMetrics } from '../metrics/metrics';
import type { BudgetLedgerService, Reservation } from './budget-ledger.service';
import type { ChatMessage, ProviderName, TokenUsage } from './llm.types';
import { PRICING_VERSION, nanoToDecimal, nanoToNumber } from './pricing';

export interface DispatchActor {
  workspaceId: string;
  actorUserId: string | null;
  agentRunId: string | null;
  agentId: string | null;
  correlationId: string | null;
}

export interface DispatchOutcome {
  outcome: 'success' | 'failed' | 'cancelled';
  alias: string | null;
  provider: ProviderName;
  model: string;
  usage: TokenUsage;
  costNano: bigint;
  latencyMs: number;
  attempts: number;
  errorCode: string | null;
  request: { messages: readonly ChatMessage[]; system?: string; maxTokens: number };
  text: string | null;
}

export const ZERO_USAGE: TokenUsage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  thinkingTokens: 0,
};

export interface DispatchTrailOptions {
  db?: Knex;
  bus?: RaptorBus;
  audit?: AuditLogService;
}

/**
 * The record of every dispatch (SPEC §10): the budget settlement, the cost row, the audit row and the
 * `cost.recorded` outbox event commit in ONE transaction, so spend is never counted without its record
 * or recorded without being counted. Prompts and answers are stored only as digests.
 */
export class DispatchTrailService {
  private readonly db: Knex;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;

  constructor(opts: DispatchTrailOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.bus = opts.bus ?? getBus();
    this.audit = opts.audit ?? new AuditLogService({ db: this.db });
  }

  async record(
    actor: DispatchActor,
    o: DispatchOutcome,
    ledger: BudgetLedgerService | undefined,
    reservation: Reservation | undefined,
  ): Promise<string> {
    const costLogId = await this.db.transaction(async (trx) => {
      if (ledger && reservation) {
        if (o.outcome === 'success') await ledger.settle(reservation, o.costNano, trx);
        else await ledger.release(reservation, trx);
      }
      const [row] = await trx('cost_logs')
        .insert({
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
          pricing_version: PRICING_VERSION,
          correlation_id: actor.correlationId,
          outcome: o.outcome,
          error_code: o.errorCode,
          latency_ms: o.latencyMs,
          attempts: o.attempts,
        })
        .returning<Array<{ id: string }>>('id');
      const id = row!.id;
      await this.audit.record(
        {
          action: 'model.dispatch',
          toolName: 'model.dispatch',
          workspaceId: actor.workspaceId,
          actorType: actor.agentRunId ? 'agent' : actor.actorUserId ? 'user' : 'system',
          actorId: actor.agentRunId ? (actor.agentId ?? actor.agentRunId) : actor.actorUserId,
          agentRunId: actor.agentRunId ?? undefined,
          correlationId: actor.correlationId ?? undefined,
          resourceType: 'cost_log',
          resourceId: id,
          input: {
            model: o.alias ?? o.model,
            max_tokens: o.request.maxTokens,
            messages: o.request.messages.length,
            digest: digest({ system: o.request.system ?? null, messages: o.request.messages }),
          },
          output: o.text === null ? null : { digest: digest(o.text), characters: o.text.length },
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
      return id;
    });
    observe(o);
    return costLogId;
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
