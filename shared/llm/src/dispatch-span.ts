import { SpanKind, inSpan } from '@raptorflow/core/telemetry/spans';
import type { Span } from '@raptorflow/core/telemetry/spans';
import { nanoToNumber, promptTokens } from '@raptorflow/core/money/money';
import { AppError, BudgetExceededError, CancelledError } from '@raptorflow/core/errors/app-error';
import type { ProviderName, TokenUsage } from './llm.types';
import type { ResolvedRoute } from './model-router';

/** What the span reads of an admitted call and of its answer (DispatchAdmission's AdmittedCall/Admitted). */
interface SpannedCall {
  operation: 'chat' | 'embedding';
  model: string;
  alias: string | null;
  chain: ResolvedRoute[];
  ctx: { agentRunId?: string | null };
}
interface SpannedAnswer {
  route: ResolvedRoute;
  usage: TokenUsage;
  costNano: bigint;
  attempts: number;
}

/** `gen_ai.system` / `gen_ai.provider.name` values of the OpenTelemetry GenAI conventions. */
const GEN_AI_SYSTEM: Record<ProviderName, string> = {
  gemini: 'gcp.gemini',
  anthropic: 'anthropic',
  local: 'raptorflow.local',
};

/**
 * One model dispatch as a CLIENT span named like the GenAI conventions (`chat gemini-2.5-flash`), carrying
 * the model asked for and the one that answered, the tokens, the workspace and the cost; the provider's HTTP
 * request (fetch instrumentation) is its child. A refused budget or a cancel is recorded, not marked ERROR.
 */
export function inDispatchSpan<A extends SpannedAnswer>(
  p: SpannedCall,
  workspaceId: string,
  run: () => Promise<A>,
): Promise<A> {
  const primary = p.chain[0];
  const operation = p.operation === 'embedding' ? 'embeddings' : 'chat';
  const system = primary ? GEN_AI_SYSTEM[primary.provider.name] : 'unknown';
  // The model id, not the alias: the conventions name the span after what is asked of the provider.
  const model = primary?.model ?? p.model;
  return inSpan(
    `${operation} ${model}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': operation,
        'gen_ai.system': system,
        'gen_ai.provider.name': system,
        'gen_ai.request.model': model,
        'raptorflow.workspace_id': workspaceId,
        ...(p.alias ? { 'raptorflow.model_alias': p.alias } : {}),
        ...(p.ctx.agentRunId ? { 'raptorflow.agent_run_id': p.ctx.agentRunId } : {}),
      },
    },
    async (span) => {
      try {
        const admitted = await run();
        describeAnswer(span, admitted);
        return admitted;
      } catch (err) {
        if (err instanceof AppError) span.setAttribute('error.type', err.code);
        throw err;
      }
    },
    (err) => err instanceof BudgetExceededError || err instanceof CancelledError,
  );
}

function describeAnswer(span: Span, a: SpannedAnswer): void {
  span.setAttributes({
    'gen_ai.system': GEN_AI_SYSTEM[a.route.provider.name],
    'gen_ai.provider.name': GEN_AI_SYSTEM[a.route.provider.name],
    'gen_ai.response.model': a.route.model,
    'gen_ai.usage.input_tokens': promptTokens(a.usage),
    'gen_ai.usage.output_tokens': a.usage.outputTokens + a.usage.thinkingTokens,
    'raptorflow.cost_usd': nanoToNumber(a.costNano),
    'raptorflow.attempts': a.attempts,
  });
}
