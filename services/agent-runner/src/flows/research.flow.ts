import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { contextLines, lordSystemPrompt, runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { leadText, paragraph, parseListItems, splitSections } from './text-parsing';

/** How many research questions each depth asks for. */
export const QUESTIONS_PER_DEPTH = { quick: 3, standard: 5, deep: 7 } as const;

const findingSchema = z.object({ question: z.string(), finding: z.string() });
const briefSchema = z.object({
  summary: z.string(),
  key_points: z.array(z.string()),
  next_steps: z.array(z.string()),
});

/** The run input plus what each step adds (step outputs, so a resumed run rebuilds the same state). */
export const ResearchState = z.object({
  ...FLOW_INPUT_SCHEMAS.research.shape,
  questions: z.array(z.string()).optional(),
  findings: z.array(findingSchema).optional(),
  brief: briefSchema.optional(),
});

type State = z.output<typeof ResearchState>;
type Brief = z.output<typeof briefSchema>;

const NO_FINDING = 'No finding came back for this question; it needs further research.';

function subject(state: State): string {
  return contextLines({ 'Research topic': state.topic, 'Target audience': state.audience });
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
        `Answer with exactly ${n} numbered questions, one per line.`,
      ].join('\n'),
      maxTokens: 600,
    });
    const questions = parseListItems(r.text).slice(0, n);
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
        'Answer as a numbered list in the same order, one answer per question, without repeating the questions.',
        '',
        ...questions.map((q, i) => `${i + 1}. ${q}`),
      ].join('\n'),
      maxTokens: 1_500,
    });
    const answers = parseListItems(r.text);
    return { findings: questions.map((question, i) => ({ question, finding: answers[i] ?? NO_FINDING })) };
  });
}

/** Reads the brief from a "SUMMARY / KEY POINTS / NEXT STEPS" answer, or from any list when unlabelled. */
export function parseBrief(text: string): Brief {
  const sections = splitSections(text, ['summary', 'key points', 'next steps']);
  const summarySection = sections.get('summary');
  const keySection = sections.get('key points');
  const stepsSection = sections.get('next steps');
  const key_points = parseListItems(keySection ?? (sections.size === 0 ? text : ''));
  const summary = summarySection
    ? paragraph(summarySection)
    : leadText(text) || key_points.slice(0, 2).join(' ');
  return { summary, key_points, next_steps: stepsSection ? parseListItems(stepsSection) : [] };
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
        'Write a research brief from the findings below, in exactly this format:',
        'SUMMARY: two or three sentences.',
        'KEY POINTS:',
        '1. (three to five numbered key points)',
        'NEXT STEPS:',
        '1. (two to four numbered recommended next steps)',
        '',
        'Findings:',
        ...findings.map((f, i) => `${i + 1}. ${f.question}\n   ${f.finding}`),
      ].join('\n'),
      maxTokens: 1_200,
    });
    return { brief: parseBrief(r.text) };
  });
}

export const researchFlow: FlowDefinition = {
  name: 'research',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(ResearchState)
      .addNode('plan', plan)
      .addNode('gather', gather)
      .addNode('synthesize', synthesize)
      .addEdge(START, 'plan')
      .addEdge('plan', 'gather')
      .addEdge('gather', 'synthesize')
      .addEdge('synthesize', END)
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
    };
  },
};
