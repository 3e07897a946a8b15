import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { checkContent, guardianResultSchema } from './guardrail-check';

/** The Arbiter's check on its own: content in, verdict out, no model call (so it costs nothing). */
export const GuardianState = z.object({
  ...FLOW_INPUT_SCHEMAS.guardian.shape,
  result: guardianResultSchema.optional(),
});

type State = z.output<typeof GuardianState>;

async function guardian(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  return rt.steps.step('guardian', async () => ({ result: checkContent(state.content, rt.guardrails) }));
}

export const guardianFlow: FlowDefinition = {
  name: 'guardian',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(GuardianState)
      .addNode('guardian', guardian)
      .addEdge(START, 'guardian')
      .addEdge('guardian', END)
      .compile({ checkpointer, name: 'guardian' });
  },
  output(raw) {
    const state = raw as State;
    return state.result ?? { verdict: 'pass', violations: [] };
  },
};
