import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { checkContent, guardianResultSchema } from './guardrail-check';
import { approvalGate, approvalOutcomeSchema } from './approval-gate';

export const GUARDIAN_CITATIONS_K = 3;

const citationSchema = z.object({ id: z.string(), score: z.number(), content: z.string() });

/**
 * The Arbiter's check on its own: content in, verdict out, by rules alone (no model call). Decisions the
 * Council has recorded that bear on the content are cited beside the verdict; with none recorded, nothing is
 * embedded and the run still costs nothing.
 */
export const GuardianState = z.object({
  ...FLOW_INPUT_SCHEMAS.guardian.shape,
  result: guardianResultSchema.optional(),
  citations: z.array(citationSchema).optional(),
  approval: approvalOutcomeSchema.nullable().optional(),
});

type State = z.output<typeof GuardianState>;

async function guardian(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const out = await rt.steps.step('guardian', async (scope) => {
    const result = checkContent(state.content, rt.guardrails);
    // Every Lord's decisions, not only the Arbiter's: compliance answers to what the whole Council decided.
    // They are context for whoever reads the verdict; the rules alone decide it.
    const r = await scope.recall({
      query: state.content,
      k: GUARDIAN_CITATIONS_K,
      kinds: ['decision'],
      agents: 'any',
    });
    const citations = r.items.map(({ id, score, content }) => ({ id, score, content }));
    return { result, citations, citations_skipped: r.skipped };
  });
  return { result: out.result, citations: out.citations };
}

/** Flagged content (or every content, when the workspace says so) waits for an owner's or admin's decision. */
async function approval(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  return { approval: approvalGate(config, 'approval', state.content, state.result) };
}

export const guardianFlow: FlowDefinition = {
  name: 'guardian',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(GuardianState)
      .addNode('guardian', guardian)
      .addNode('approval_gate', approval)
      .addEdge(START, 'guardian')
      .addEdge('guardian', 'approval_gate')
      .addEdge('approval_gate', END)
      .compile({ checkpointer, name: 'guardian' });
  },
  output(raw) {
    const state = raw as State;
    const out = {
      ...(state.result ?? { verdict: 'pass', violations: [] }),
      citations: state.citations ?? [],
    };
    return state.approval ? { ...out, approval: state.approval } : out;
  },
};
