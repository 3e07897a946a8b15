import { DynamicStructuredTool } from '@langchain/core/tools';
import { z } from 'zod';
import { dispatchResultView } from '@raptorflow/llm/model-dispatcher.service';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import type { DispatchContext, DispatchResultView } from '@raptorflow/llm/model-dispatcher.service';
import type { ToolContext } from './tool-context';

export const MODEL_DISPATCH_TOOL_NAME = 'model_dispatch';

export const modelDispatchInputSchema = z.object({
  model: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('A model alias (fast, standard, heavy) or a priced model id'),
  prompt: z.string().min(1).max(200_000).describe('The user message'),
  system: z.string().max(50_000).optional().describe('Optional system instructions'),
  max_tokens: z.number().int().min(1).max(200_000).optional().describe('Upper bound on the answer length'),
  history: z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(200_000) }))
    .max(20)
    .optional()
    .describe('Earlier turns of the conversation, oldest first, before the prompt'),
  response_schema: z
    .object({
      name: z.string().min(1).max(100),
      schema: z.record(z.string(), z.unknown()),
    })
    .optional()
    .describe('Answer with JSON of this JSON Schema (the provider’s native structured output)'),
});

/**
 * What the caller may put in the call's `configurable` besides LangChain's own keys: a function cannot
 * travel in the tool's input (it is validated and audited), so the streaming callback rides in the config.
 */
export interface ModelDispatchConfigurable {
  /** Each piece of the answer's text as the provider streams it. */
  onText?: (delta: string) => void;
  /** The dispatcher's time for this call in ms (succeeded or not): a step's own time is the rest. */
  onModelTime?: (ms: number) => void;
  /** Committed before the provider is called (DispatchContext.before): the run's previous steps' ends. */
  before?: () => Promise<void>;
}

export type ModelDispatchInput = z.input<typeof modelDispatchInputSchema>;

export type ModelDispatchOutput = DispatchResultView;

export interface ModelDispatchToolDeps {
  dispatcher: ModelDispatcher;
}

export type ModelDispatchTool = DynamicStructuredTool<
  typeof modelDispatchInputSchema,
  z.output<typeof modelDispatchInputSchema>,
  z.input<typeof modelDispatchInputSchema>,
  ModelDispatchOutput
>;

/** The context's ids plus the call's signal, as the dispatcher wants them. */
export function dispatchContextOf(ctx: ToolContext, signal?: AbortSignal): DispatchContext {
  return {
    workspaceId: ctx.workspace_id,
    actorUserId: ctx.actor_user_id ?? null,
    agentId: ctx.agent_id ?? null,
    agentRunId: ctx.agent_run_id ?? null,
    correlationId: ctx.correlation_id ?? null,
    signal,
  };
}

/**
 * The Model Dispatch Tool: one model call through the ModelDispatcher for `ctx`, so budget admission, the
 * cost row and the dispatcher's own audit apply exactly as for an API call.
 *
 * Built as a DynamicStructuredTool rather than with `tool()`: `tool()` races the function against
 * `config.signal` and rejects with the signal's reason (a DOMException), which would hide the dispatcher's
 * CancelledError. The dispatcher already stops at once on abort, so errors surface as the original AppError.
 */
export function createModelDispatchTool(ctx: ToolContext, deps: ModelDispatchToolDeps): ModelDispatchTool {
  const { dispatcher } = deps;
  return new DynamicStructuredTool({
    name: MODEL_DISPATCH_TOOL_NAME,
    description:
      'Calls a language model through the workspace budget and returns its answer with the model, usage and cost.',
    schema: modelDispatchInputSchema,
    func: async (input, _runManager, config): Promise<ModelDispatchOutput> => {
      const configurable = config?.configurable as ModelDispatchConfigurable | undefined;
      const onText = configurable?.onText;
      const started = performance.now();
      const r = await dispatcher
        .dispatch(
          {
            model: input.model,
            messages: [...(input.history ?? []), { role: 'user', content: input.prompt }],
            system: input.system,
            maxTokens: input.max_tokens,
            responseSchema: input.response_schema,
            onText: typeof onText === 'function' ? onText : undefined,
          },
          { ...dispatchContextOf(ctx, config?.signal), before: configurable?.before },
        )
        .finally(() => configurable?.onModelTime?.(performance.now() - started));
      return dispatchResultView(r);
    },
  });
}
