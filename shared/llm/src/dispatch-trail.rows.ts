import type { AuditEntry } from '@raptorflow/data/domain/audit-log.service';
import type { CostLogRow } from '@raptorflow/data/repositories/cost.rows';
import { nanoToDecimal } from '@raptorflow/core/money/money';
import type { Reservation } from './budget-ledger.service';
import type { ProviderName, TokenUsage } from './llm.types';

/** Who made a dispatch (its trail rows say so). */
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

/** What one dispatch's record is made of (the trail writes it alone or with its workspace's batch). */
export interface TrailRecord {
  costLogId: string;
  actor: DispatchActor;
  o: DispatchOutcome;
  reservation: Reservation | undefined;
}

/** The dispatch's `cost_logs` row. */
export function costRow({ costLogId, actor, o, reservation }: TrailRecord): Omit<CostLogRow, 'created_at'> {
  return {
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
  };
}

/** The dispatch's audit entry: sizes and digests of prompt and answer, never their text. */
export function auditEntry({ costLogId, actor, o }: TrailRecord): AuditEntry {
  return {
    action: o.operation === 'embedding' ? 'model.embed' : 'model.dispatch',
    toolName: o.operation === 'embedding' ? 'model.embed' : 'model.dispatch',
    workspaceId: actor.workspaceId,
    actorType: actor.agentRunId ? 'agent' : actor.actorUserId ? 'user' : 'system',
    actorId: actor.agentRunId ? (actor.agentId ?? actor.agentRunId) : actor.actorUserId,
    agentRunId: actor.agentRunId ?? undefined,
    correlationId: actor.correlationId ?? undefined,
    resourceType: 'cost_log',
    resourceId: costLogId,
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
  };
}
