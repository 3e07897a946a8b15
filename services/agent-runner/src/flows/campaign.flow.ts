import { END, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { z } from 'zod';
import { runtimeOf } from './flow-runtime';
import type { ChildRuns, FlowDefinition, FlowGraph } from './flow.types';

/** A stage's outcome as the parent keeps it: the child run's id-free output (the API lists the children). */
const outputSchema = z.record(z.string(), z.unknown());

/**
 * Strategos's campaign: each node hands one stage to a Lord as a child run (research → plan → draft →
 * compliance → one message per channel) and passes its output on. The campaign makes no model call of its
 * own: its cost is the sum of its children's. A node whose child has not ended yet throws through the graph
 * (ChildrenPendingSignal) and the runner parks the run; when a child's end wakes it, the run resumes from its
 * last checkpoint, so stages already passed are not asked for again, and the waiting node finds the child
 * it created before (one per stage) instead of creating another.
 */
export const CampaignState = z.object({
  ...FLOW_INPUT_SCHEMAS.campaign.shape,
  research_out: outputSchema.optional(),
  plan_out: outputSchema.optional(),
  draft_out: outputSchema.optional(),
  compliance_out: outputSchema.optional(),
  messaging_out: z.array(outputSchema).optional(),
});

type State = z.output<typeof CampaignState>;
type Out = Record<string, unknown>;

function childRuns(config: LangGraphRunnableConfig): ChildRuns {
  const children = runtimeOf(config).children;
  if (!children) throw new Error('The campaign flow was invoked without configurable.runtime.children');
  return children;
}

const field = (o: Out | undefined, key: string): unknown => o?.[key];
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The research brief's summary and points as prose for the next stages' inputs. */
function briefLines(research: Out | undefined): string {
  const brief = field(research, 'brief') as { summary?: string; key_points?: string[] } | null | undefined;
  if (!brief) return '';
  return [brief.summary ?? '', ...(brief.key_points ?? []).map((p) => `- ${p}`)].filter(Boolean).join('\n');
}

function planLines(plan: Out | undefined): string {
  const p = field(plan, 'plan') as { summary?: string; phases?: string[] } | undefined;
  if (!p) return '';
  return [p.summary ?? '', ...(p.phases ?? []).map((x) => `- ${x}`)].filter(Boolean).join('\n');
}

/** The final copy of a muse output (the reviewer's edit when there was one). */
function finalCopy(muse: Out | undefined): string {
  const final = field(muse, 'final') as { content?: string } | undefined;
  return text(final?.content) || text(field(muse, 'draft'));
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

async function research(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const out = await childRuns(config).run('research', {
    agent: 'cognition',
    input: { topic: clip(state.objective, 500), audience: state.audience, depth: 'quick' },
  });
  return { research_out: out };
}

async function plan(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const brief = briefLines(state.research_out);
  const objective = clip([state.objective, brief && `Research: ${brief}`].filter(Boolean).join('\n'), 2_000);
  const out = await childRuns(config).run('plan', {
    agent: 'strategos',
    input: { objective, horizon_weeks: state.horizon_weeks },
  });
  return { plan_out: out };
}

async function draft(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const brief = [
    `Campaign objective: ${state.objective}`,
    planLines(state.plan_out),
    briefLines(state.research_out),
  ]
    .filter(Boolean)
    .join('\n\n');
  const out = await childRuns(config).run('draft', {
    agent: 'aesthete',
    input: { brief: clip(brief, 5_000), channel: state.channels[0]!, tone: state.tone },
  });
  return { draft_out: out };
}

async function compliance(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  const out = await childRuns(config).run('compliance', {
    agent: 'arbiter',
    input: { content: clip(finalCopy(state.draft_out) || state.objective, 50_000) },
  });
  return { compliance_out: out };
}

async function messaging(state: State, config: LangGraphRunnableConfig): Promise<Partial<State>> {
  // The compliance reviewer's edit, when there was one, is the copy every channel's message starts from.
  const approved = field(state.compliance_out, 'approval') as { content?: string } | undefined;
  const copy = text(approved?.content) || finalCopy(state.draft_out);
  const outs = await childRuns(config).runAll(
    state.channels.map((channel) => ({
      stage: `messaging:${channel}`,
      agent: 'herald',
      input: {
        brief: clip(`Adapt this approved campaign copy for ${channel}:\n\n${copy}`, 5_000),
        channel,
        tone: state.tone,
      },
    })),
  );
  return { messaging_out: outs };
}

export const campaignFlow: FlowDefinition = {
  name: 'campaign',
  compile(checkpointer: BaseCheckpointSaver): FlowGraph {
    return new StateGraph(CampaignState)
      .addNode('research', research)
      .addNode('plan', plan)
      .addNode('draft', draft)
      .addNode('compliance', compliance)
      .addNode('messaging', messaging)
      .addEdge(START, 'research')
      .addEdge('research', 'plan')
      .addEdge('plan', 'draft')
      .addEdge('draft', 'compliance')
      .addEdge('compliance', 'messaging')
      .addEdge('messaging', END)
      .compile({ checkpointer, name: 'campaign' });
  },
  output(raw) {
    const state = raw as State;
    return {
      objective: state.objective,
      channels: state.channels,
      brief: field(state.research_out, 'brief') ?? null,
      plan: field(state.plan_out, 'plan') ?? null,
      tasks: field(state.plan_out, 'tasks') ?? [],
      draft: finalCopy(state.draft_out),
      compliance: state.compliance_out ?? null,
      messages: state.channels.map((channel, i) => ({
        channel,
        content: finalCopy(state.messaging_out?.[i]),
      })),
    };
  },
};
