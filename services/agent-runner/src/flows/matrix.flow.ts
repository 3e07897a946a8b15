import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { contextLines, lordSystemPrompt, runtimeOf } from './flow-runtime';
import type { FlowDefinition, FlowGraph } from './flow.types';
import { checkContent, guardianResultSchema } from './guardrail-check';

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
type Task = z.output<typeof taskSchema>;

function objectiveLines(state: State): string {
  return contextLines({
    'Campaign objective': state.objective,
    Horizon: `${state.horizon_weeks} week${state.horizon_weeks === 1 ? '' : 's'}`,
    Budget: state.budget_usd === undefined ? 'not set' : `$${state.budget_usd.toLocaleString('en-US')}`,
  });
}

// The structured answers the steps ask the model for (sent as JSON Schema, validated, repaired once).
const planAnswer = z.object({
  summary: z.string().min(1).describe('Two or three sentences on the strategy'),
  phases: z
    .array(z.string().min(1).describe('One phase: its weeks, channels and goal'))
    .min(1)
    .describe('Three to five phases, in order'),
});

/** The tasks answer for a horizon: every week must fall inside it. */
export function tasksAnswer(horizonWeeks: number) {
  return z.object({
    tasks: z
      .array(
        z.object({
          week: z
            .number()
            .int()
            .min(1)
            .max(horizonWeeks)
            .describe(`The week it is done in, 1 to ${horizonWeeks}`),
          task: z.string().min(1).describe('A concrete task, e.g. "Draft the launch email"'),
        }),
      )
      .min(1)
      .describe('Five to twelve tasks'),
  });
}

/** Sorted by week, order kept within a week (a stable sort). */
export function byWeek(tasks: readonly Task[]): Task[] {
  return [...tasks].sort((a, b) => a.week - b.week);
}

async function plan(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const rt = runtimeOf(config);
  return rt.steps.step('plan', async (scope) => {
    const r = await scope.dispatch({
      system: lordSystemPrompt(rt, 'You turn a marketing objective into a phased campaign plan.'),
      prompt: [
        objectiveLines(state),
        '',
        'Plan the campaign that reaches this objective within the horizon and budget: a summary of the',
        'strategy and three to five phases, each naming its weeks, channels and goal.',
      ].join('\n'),
      maxTokens: 1_000,
      schema: planAnswer,
      schemaName: 'campaign_plan',
    });
    return { campaign_plan: r.answer };
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
        'Give each task the week it is done in.',
        '',
        `Plan: ${p.summary}`,
        ...p.phases.map((phase, i) => `${i + 1}. ${phase}`),
      ].join('\n'),
      maxTokens: 1_200,
      schema: tasksAnswer(state.horizon_weeks),
      schemaName: 'campaign_tasks',
    });
    return { task_list: byWeek(r.answer.tasks) };
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
