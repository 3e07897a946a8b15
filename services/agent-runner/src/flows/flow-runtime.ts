import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { FlowRuntime } from './flow.types';

/** The run's runtime as the runner passed it (`configurable.runtime`); a flow cannot work without it. */
export function runtimeOf(config: LangGraphRunnableConfig): FlowRuntime {
  const runtime = (config.configurable as { runtime?: FlowRuntime } | undefined)?.runtime;
  if (!runtime?.steps) throw new Error('A flow was invoked without configurable.runtime');
  return runtime;
}

/**
 * The system prompt every model call of a flow shares: who is speaking (the Lord running the flow) and
 * the task at hand. The answer's format is the step's JSON schema, which the provider enforces.
 */
export function lordSystemPrompt(runtime: FlowRuntime, task: string): string {
  const { name, domain } = runtime.agent;
  const who = domain
    ? `You are ${name}, the Lord of ${domain} on the RaptorFlow Council of Lords`
    : `You are ${name}, a Lord of the RaptorFlow Council of Lords`;
  return [
    `${who}, an AI council that runs marketing work for a brand's team.`,
    task,
    'Be specific, practical and honest; never invent statistics, quotes or customer names.',
    'Answer with JSON of the requested schema only; write each text field as plain prose, without markdown.',
  ].join('\n');
}

/** The input's optional context as prompt lines, skipping what was not given. */
export function contextLines(fields: Record<string, string | number | null | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
