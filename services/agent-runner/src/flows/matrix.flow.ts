import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { contextLines, lordSystemPrompt, runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { checkContent, guardianResultSchema } from './guardrail-check';
import { leadText, paragraph, parseListItems, splitSections } from './text-parsing';

const planSchema = z.object({ summary: z.string(), phases: z.array(z.string()) });
const taskSchema = z.object({ week: z.number().int().min(1), task: z.string() });

/** State keys differ from node names (plan, tasks, guardian): LangGraph refuses a node named like a channel. */
export const MatrixState = z.object({
  ...FLOW_INPUT_SCHEMAS.matrix.shape,
  campaign_plan: planSchema.optional(),
  task_list: z.array(taskSchema).optional(),
  plan_check: guardianResultSchema.optional(),
});

type State = z.output<typeof MatrixState>;
type Plan = z.output<typeof planSchema>;
type Task = z.output<typeof taskSchema>;

function objectiveLines(state: State): string {
  return contextLines({
    'Campaign objective': state.objective,
    Horizon: `${state.horizon_weeks} week${state.horizon_weeks === 1 ? '' : 's'}`,
    Budget: state.budget_usd === undefined ? 'not set' : `$${state.budget_usd.toLocaleString('en-US')}`,
  });
}

/** Reads "SUMMARY / PHASES" from the answer, or the preamble and the list when unlabelled. */
export function parsePlan(text: string): Plan {
  const sections = splitSections(text, ['summary', 'phases']);
  const summarySection = sections.get('summary');
  const phasesSection = sections.get('phases');
  const phases = parseListItems(phasesSection ?? (sections.size === 0 ? text : ''));
  const summary = summarySection ? paragraph(summarySection) : leadText(text) || phases.slice(0, 1).join(' ');
  return { summary, phases };
}

const WEEK = /^\s*(?:\(?\s*weeks?\s*(\d{1,3})(?:\s*[-–]\s*\d{1,3})?\s*\)?)\s*[:.,)–-]?\s*/i;

/**
 * Tasks with their week: from a leading "Week N:" (or "Weeks N–M:"), else spread evenly over the horizon in
 * the order given; weeks outside the horizon are clamped to it. Sorted by week, order kept within a week.
 */
export function parseTasks(text: string, horizonWeeks: number): Task[] {
  const items = parseListItems(text);
  const clamp = (w: number) => Math.min(horizonWeeks, Math.max(1, w));
  const tasks = items.map((item, i) => {
    const m = WEEK.exec(item);
    const spread = Math.floor((i * horizonWeeks) / Math.max(1, items.length)) + 1;
    const task = m ? item.slice(m[0].length).trim() : item;
    return { week: clamp(m ? Number(m[1]) : spread), task: task || item };
  });
  return tasks
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.week - b.t.week || a.i - b.i)
    .map(({ t }) => t);
}

async function plan(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  return rt.steps.step('plan', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(rt, 'You turn a marketing objective into a phased campaign plan.'),
      prompt: [
        objectiveLines(state),
        '',
        'Plan the campaign that reaches this objective within the horizon and budget, in exactly this format:',
        'SUMMARY: two or three sentences on the strategy.',
        'PHASES:',
        '1. (three to five numbered phases, each naming its weeks, channels and goal)',
      ].join('\n'),
      maxTokens: 1_000,
    });
    return { campaign_plan: parsePlan(r.text) };
  });
}

async function tasks(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const p = state.campaign_plan ?? { summary: '', phases: [] };
  return rt.steps.step('tasks', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(rt, 'You break campaign plans into concrete tasks a small team can execute.'),
      prompt: [
        objectiveLines(state),
        '',
        `Break the plan below into 5 to 12 concrete tasks across weeks 1 to ${state.horizon_weeks}.`,
        'Answer as a numbered list, each task starting with its week, like "1. Week 2: Draft the launch email".',
        '',
        `Plan: ${p.summary}`,
        ...p.phases.map((phase, i) => `${i + 1}. ${phase}`),
      ].join('\n'),
      maxTokens: 1_200,
    });
    return { task_list: parseTasks(r.text, state.horizon_weeks) };
  });
}

async function guardian(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  const p = state.campaign_plan ?? { summary: '', phases: [] };
  const text = [p.summary, ...p.phases, ...(state.task_list ?? []).map((t) => t.task)].join('\n');
  // A plan is not published copy: banned phrases and claims apply to it, required disclaimers do not (they
  // go on the copy each task produces), or every plan of a workspace with a disclaimer would fail.
  const rules = { ...rt.guardrails, required_disclaimers: [] };
  return rt.steps.step('guardian', async () => ({ plan_check: checkContent(text, rules) }));
}

export const matrixFlow: FlowDefinition = {
  name: 'matrix',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(MatrixState)
      .addNode('plan', plan)
      .addNode('tasks', tasks)
      .addNode('guardian', guardian)
      .addEdge(START, 'plan')
      .addEdge('plan', 'tasks')
      .addEdge('tasks', 'guardian')
      .addEdge('guardian', END)
      .compile({ checkpointer, name: 'matrix' });
  },
  output(raw) {
    const state = raw as State;
    return {
      objective: state.objective,
      horizon_weeks: state.horizon_weeks,
      budget_usd: state.budget_usd ?? null,
      plan: state.campaign_plan ?? { summary: '', phases: [] },
      tasks: state.task_list ?? [],
      guardian: state.plan_check ?? null,
    };
  },
};
