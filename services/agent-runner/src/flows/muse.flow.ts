import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { contextLines, lordSystemPrompt, runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { checkContent, guardianResultSchema, missingDisclaimers } from './guardrail-check';
import type { GuardianResult } from './guardrail-check';
import { brandLines, recalledItemSchema } from './memory-prompt';
import { approvalGate, approvalOutcomeSchema } from './approval-gate';

export const MUSE_RECALL_K = 5;

/**
 * State keys differ from node names on purpose: LangGraph refuses a node named like a state channel, and
 * the node names are the step keys clients see (recall, draft, guardian, revise, final_guardian).
 */
export const MuseState = z.object({
  ...FLOW_INPUT_SCHEMAS.muse.shape,
  recalled: z.array(recalledItemSchema).optional(),
  draft_copy: z.string().optional(),
  draft_check: guardianResultSchema.optional(),
  revised_copy: z.string().nullable().optional(),
  final_check: guardianResultSchema.optional(),
  approval: approvalOutcomeSchema.nullable().optional(),
});

type State = z.output<typeof MuseState>;

/** What the copy must and must not say, stated up front so a good model rarely needs a revision. */
function guardrailBrief(rules: GuardrailRules): string {
  return contextLines({
    'Never use these phrases': rules.banned_phrases.join('; '),
    'Never make these claims': rules.banned_claims.join('; '),
    'Include these disclaimers word for word': rules.required_disclaimers.join(' | '),
  });
}

/** The copy as a structured answer (sent as JSON Schema, validated, repaired once). */
const copyAnswer = z.object({
  copy: z.string().min(1).describe('The copy, ready to publish, with nothing before or after it'),
});

/** The brand's facts the brief touches: the copy must not contradict what the brand has said it is. */
async function recall(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const out = await rt.steps.step('recall', async (scope) => {
    const r = await scope.recall({ query: state.brief, k: MUSE_RECALL_K, kinds: ['brand'] });
    return { recalled: r.items, skipped: r.skipped };
  });
  return { recalled: out.recalled };
}

async function draft(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  return rt.steps.step('draft', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(
        rt,
        `You write on-brand marketing copy that fits its channel's format, length and conventions.`,
      ),
      prompt: [
        contextLines({ Channel: state.channel, Tone: state.tone }),
        `Brief: ${state.brief}`,
        '',
        `Write the ${state.channel} copy for this brief. Return only the copy, ready to publish.`,
        brandLines(state.recalled),
        guardrailBrief(rt.guardrails),
      ]
        .filter(Boolean)
        .join('\n'),
      maxTokens: 1_000,
      schema: copyAnswer,
      schemaName: 'copy_draft',
    });
    return { draft_copy: r.answer.copy.trim() };
  });
}

async function guardian(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  return rt.steps.step('guardian', async () => ({
    draft_check: checkContent(state.draft_copy ?? '', rt.guardrails),
  }));
}

function describeViolations(result: GuardianResult): string {
  return result.violations
    .map((v, i) => {
      if (v.kind === 'missing_disclaimer') return `${i + 1}. Add this disclaimer word for word: "${v.text}"`;
      if (v.kind === 'banned_claim') return `${i + 1}. Remove or rephrase the claim: "${v.text}"`;
      return `${i + 1}. Remove the banned phrase: "${v.text}"`;
    })
    .join('\n');
}

async function revise(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const check = state.draft_check ?? { verdict: 'pass', violations: [] };
  return rt.steps.step('revise', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(rt, 'You fix marketing copy that failed the Arbiter’s guardrail check.'),
      prompt: [
        `Revise this ${state.channel} copy so it passes the brand guardrails; keep its message, tone and length.`,
        'Fix exactly these problems:',
        describeViolations(check),
        '',
        'Copy:',
        state.draft_copy ?? '',
        '',
        'Return only the revised copy.',
      ].join('\n'),
      maxTokens: 1_000,
      schema: copyAnswer,
      schemaName: 'copy_revision',
    });
    // A model that still forgets a required disclaimer must not decide compliance: append it verbatim.
    const revised = r.answer.copy.trim();
    const missing = missingDisclaimers(revised, rt.guardrails);
    return { revised_copy: missing.length > 0 ? `${revised}\n\n${missing.join('\n')}` : revised };
  });
}

async function finalGuardian(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const content = state.revised_copy ?? state.draft_copy ?? '';
  return rt.steps.step('final_guardian', async () => ({ final_check: checkContent(content, rt.guardrails) }));
}

/** Copy still flagged after its revision (or any copy, when the workspace says so) waits for a human. */
async function approval(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const content = state.revised_copy ?? state.draft_copy ?? '';
  return { approval: approvalGate(config, 'approval', content, state.final_check) };
}

export const museFlow: FlowDefinition = {
  name: 'muse',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return (
      new StateGraph(MuseState)
        .addNode('recall', recall)
        .addNode('draft', draft)
        .addNode('guardian', guardian)
        .addNode('revise', revise)
        .addNode('final_guardian', finalGuardian)
        .addEdge(START, 'recall')
        .addEdge('recall', 'draft')
        .addEdge('draft', 'guardian')
        // Revise once, only when the draft was flagged.
        .addConditionalEdges(
          'guardian',
          (s: State) => (s.draft_check?.verdict === 'fail' ? 'revise' : 'final_guardian'),
          ['revise', 'final_guardian'],
        )
        .addEdge('revise', 'final_guardian')
        .addNode('approval_gate', approval)
        .addEdge('final_guardian', 'approval_gate')
        .addEdge('approval_gate', END)
        .compile({ checkpointer, name: 'muse' })
    );
  },
  output(raw) {
    const state = raw as State;
    const final = state.final_check ?? { verdict: 'pass', violations: [] };
    return {
      channel: state.channel,
      draft: state.draft_copy ?? '',
      guardian: state.draft_check ?? null,
      revised: state.revised_copy ?? null,
      final: { content: state.approval?.content ?? state.revised_copy ?? state.draft_copy ?? '', ...final },
      recalled: state.recalled ?? [],
      ...(state.approval ? { approval: state.approval } : {}),
    };
  },
};
