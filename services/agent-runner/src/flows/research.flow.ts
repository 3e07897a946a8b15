import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import type { MemoryKind } from '@raptorflow/data/repositories/memory-item.rows';
import { contextLines, lordSystemPrompt, runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph, RememberItem } from './flow.types';
import { knownLines, recalledItemSchema } from './memory-prompt';

/** How many research questions each depth asks for. */
export const QUESTIONS_PER_DEPTH = { quick: 3, standard: 5, deep: 7 } as const;

/** What research builds on: everything known but raw assets. */
export const RESEARCH_RECALL_KINDS: readonly MemoryKind[] = ['fact', 'finding', 'brief', 'decision', 'brand'];
export const RESEARCH_RECALL_K = 5;

const findingSchema = z.object({ question: z.string(), finding: z.string() });
const briefSchema = z.object({
  summary: z.string(),
  key_points: z.array(z.string()),
  next_steps: z.array(z.string()),
});

/** The run input plus what each step adds (step outputs, so a resumed run rebuilds the same state). */
export const ResearchState = z.object({
  ...FLOW_INPUT_SCHEMAS.research.shape,
  recalled: z.array(recalledItemSchema).optional(),
  questions: z.array(z.string()).optional(),
  findings: z.array(findingSchema).optional(),
  brief: briefSchema.optional(),
  remembered: z.array(z.string()).optional(),
});

type State = z.output<typeof ResearchState>;
type Brief = z.output<typeof briefSchema>;

// The structured answers the steps ask the model for (sent as JSON Schema, validated, repaired once).
const planAnswer = z.object({
  questions: z
    .array(z.string().min(1).describe('One research question, as a full sentence'))
    .min(1)
    .describe('The research questions, most important first'),
});
/** Exactly one answer per question (a missing one would leave a question without its finding). */
function gatherAnswer(questions: number) {
  return z.object({
    answers: z
      .array(z.string().min(1).describe('Two or three sentences: the most useful finding for a marketer'))
      .length(questions)
      .describe('One answer per question, in the order of the questions'),
  });
}
const briefAnswer = z.object({
  summary: z.string().min(1).describe('Two or three sentences'),
  key_points: z.array(z.string().min(1)).min(1).describe('Three to five key points'),
  next_steps: z.array(z.string().min(1)).describe('Two to four recommended next steps'),
});

const NO_FINDING = 'No finding came back for this question; it needs further research.';

function subject(state: State): string {
  return contextLines({ 'Research topic': state.topic, 'Target audience': state.audience });
}

/** What a recall for this research looks for: the topic, and who it is for. */
export function recallQuery(state: Pick<State, 'topic' | 'audience'>): string {
  return state.audience ? `${state.topic} for ${state.audience}` : state.topic;
}

async function recall(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const out = await rt.steps.step('recall', async (scope) => {
    const r = await scope.recall({
      query: recallQuery(state),
      k: RESEARCH_RECALL_K,
      kinds: RESEARCH_RECALL_KINDS,
    });
    return { recalled: r.items, skipped: r.skipped };
  });
  return { recalled: out.recalled };
}

async function plan(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const n = QUESTIONS_PER_DEPTH[state.depth];
  return rt.steps.step('plan', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(rt, 'You plan marketing research before anyone spends money on a campaign.'),
      prompt: [
        subject(state),
        '',
        `List the ${n} most important research questions a marketing team must answer about this topic` +
          (state.audience ? ' for this audience' : '') +
          ': market, audience needs, competitors, channels and messaging.',
        `Answer with exactly ${n} questions.`,
        // After the task, so the questions aim at what is still unknown rather than restate what is known.
        ...(state.recalled?.length ? ['', knownLines(state.recalled)] : []),
      ].join('\n'),
      maxTokens: 600,
      schema: planAnswer,
      schemaName: 'research_plan',
    });
    const questions = r.answer.questions.slice(0, n);
    return {
      questions:
        questions.length > 0 ? questions : [`What matters most to the audience about ${state.topic}?`],
    };
  });
}

async function gather(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const questions = state.questions ?? [];
  return rt.steps.step('gather', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(
        rt,
        'You answer research questions with what is known, and say plainly what is not.',
      ),
      prompt: [
        subject(state),
        '',
        'Answer each research question below in two or three sentences with the most useful finding for a marketer.',
        'Answer in the same order, one answer per question, without repeating the questions.',
        '',
        ...questions.map((q, i) => `${i + 1}. ${q}`),
      ].join('\n'),
      maxTokens: 1_500,
      schema: gatherAnswer(questions.length),
      schemaName: 'research_findings',
    });
    const answers = r.answer.answers;
    return { findings: questions.map((question, i) => ({ question, finding: answers[i] ?? NO_FINDING })) };
  });
}

async function synthesize(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const findings = state.findings ?? [];
  return rt.steps.step('synthesize', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(
        rt,
        'You turn research findings into a brief a marketing team can act on this week.',
      ),
      prompt: [
        subject(state),
        '',
        'Write a research brief from the findings below: a summary, the key points and the next steps.',
        '',
        'Findings:',
        ...findings.map((f, i) => `${i + 1}. ${f.question}\n   ${f.finding}`),
        ...(state.recalled?.length ? ['', knownLines(state.recalled)] : []),
      ].join('\n'),
      maxTokens: 1_200,
      schema: briefAnswer,
      schemaName: 'research_brief',
    });
    return { brief: r.answer };
  });
}

/** The brief as one memory item's text. */
export function briefText(brief: Brief): string {
  return [
    brief.summary,
    ...(brief.key_points.length ? ['Key points:', ...brief.key_points.map((p) => `- ${p}`)] : []),
    ...(brief.next_steps.length ? ['Next steps:', ...brief.next_steps.map((p) => `- ${p}`)] : []),
  ].join('\n');
}

/**
 * What a research run leaves in memory: one `finding` per answered question (about the question) and the
 * brief (about the topic). A question that got no answer leaves nothing: the placeholder is not knowledge.
 */
export function researchMemories(state: State): RememberItem[] {
  const metadata = { topic: state.topic, ...(state.audience ? { audience: state.audience } : {}) };
  const findings: RememberItem[] = (state.findings ?? [])
    .filter((f) => f.finding !== NO_FINDING)
    .map((f) => ({ kind: 'finding', subject: f.question, content: f.finding, metadata }));
  const brief: RememberItem[] = state.brief
    ? [{ kind: 'brief', subject: state.topic, content: briefText(state.brief), metadata }]
    : [];
  return [...findings, ...brief];
}

async function remember(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const out = await rt.steps.step('remember', async (scope) => {
    const r = await scope.remember(researchMemories(state));
    return { remembered: r.ids, skipped: r.skipped };
  });
  return { remembered: out.remembered };
}

export const researchFlow: FlowDefinition = {
  name: 'research',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(ResearchState)
      .addNode('recall', recall)
      .addNode('plan', plan)
      .addNode('gather', gather)
      .addNode('synthesize', synthesize)
      .addNode('remember', remember)
      .addEdge(START, 'recall')
      .addEdge('recall', 'plan')
      .addEdge('plan', 'gather')
      .addEdge('gather', 'synthesize')
      .addEdge('synthesize', 'remember')
      .addEdge('remember', END)
      .compile({ checkpointer, name: 'research' });
  },
  output(raw) {
    const state = raw as State;
    return {
      topic: state.topic,
      audience: state.audience ?? null,
      depth: state.depth,
      questions: state.questions ?? [],
      findings: state.findings ?? [],
      brief: state.brief ?? null,
      recalled: state.recalled ?? [],
      remembered: state.remembered ?? [],
    };
  },
};
