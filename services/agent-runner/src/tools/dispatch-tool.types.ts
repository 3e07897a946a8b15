import type { AuditedToolConfigurable } from './audited-tool';
import type { ModelDispatchConfigurable, ModelDispatchInput } from './model-dispatch.tool';

/** The part of the audited Model Dispatch Tool a step uses (a LangChain tool's `invoke`). */
export interface DispatchToolLike {
  invoke(
    input: ModelDispatchInput,
    config?: {
      signal?: AbortSignal;
      configurable?: ModelDispatchConfigurable & AuditedToolConfigurable;
    },
  ): Promise<unknown>;
}

/** What the tool answers (dispatchResultView), as a step reads it. */
export interface ToolOutput {
  text: string;
  model: string;
  cost_usd: number;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    cached_input_tokens?: number;
    thinking_tokens?: number;
  };
}
