import { z } from 'zod';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { EXTRA_FLOWS, FLOW_INPUT_SCHEMAS, FLOW_NAMES } from '@raptorflow/data/runs/flow-inputs';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';

/**
 * The flows as the console shows them: what each does, which Lords run it by default, and its input as a
 * JSON Schema a form can be built from. The schemas are the ones the gateway validates run input with
 * (shared/data's FLOW_INPUT_SCHEMAS); the words a person reads — titles and descriptions — are added here.
 */

interface Label {
  title: string;
  description: string;
}

type FieldsOf<F extends FlowName> = keyof (typeof FLOW_INPUT_SCHEMAS)[F]['shape'] & string;

/** One label per field, no more and no fewer: the type refuses a field the schema lacks or one it misses. */
type FlowText = { [F in FlowName]: { description: string; fields: Record<FieldsOf<F>, Label> } };

export const FLOW_TEXT: FlowText = {
  research: {
    description:
      'Plans research questions, gathers findings and synthesizes them into a brief; recalls what the Council already knows and remembers what it finds.',
    fields: {
      topic: {
        title: 'Topic',
        description: 'What to research: a market, an audience, a product or a question',
      },
      audience: { title: 'Audience', description: 'Who the findings are for (optional)' },
      depth: { title: 'Depth', description: 'quick, standard or deep: 3, 5 or 7 research questions' },
    },
  },
  muse: {
    description:
      "Drafts copy for a channel from a brief, checks it against the workspace's guardrails and revises it once if flagged.",
    fields: {
      brief: { title: 'Brief', description: 'What the copy must say and achieve' },
      channel: { title: 'Channel', description: 'Where it will appear, e.g. email, LinkedIn, landing page' },
      tone: { title: 'Tone', description: 'How it should sound (optional; the brand voice otherwise)' },
    },
  },
  matrix: {
    description:
      'Turns an objective into a campaign plan with week-numbered tasks, then checks the plan against the guardrails.',
    fields: {
      objective: { title: 'Objective', description: 'What the campaign must achieve' },
      budget_usd: { title: 'Budget (USD)', description: 'The campaign budget to plan within (optional)' },
      horizon_weeks: { title: 'Horizon (weeks)', description: 'How many weeks the plan covers, 1 to 104' },
    },
  },
  guardian: {
    description:
      "Checks content against the workspace's rules — banned phrases, banned claims, required disclaimers — without a model call.",
    fields: {
      content: { title: 'Content', description: 'The text to check' },
    },
  },
  campaign: {
    description:
      'Strategos runs a whole campaign as child runs: research, plan, a draft, its compliance check and one message per channel; flagged content waits for approval.',
    fields: {
      objective: { title: 'Objective', description: 'What the campaign must achieve' },
      audience: { title: 'Audience', description: 'Who it is for (optional)' },
      channels: { title: 'Channels', description: 'One to five channels, each gets its own message' },
      tone: { title: 'Tone', description: 'How it should sound (optional; the brand voice otherwise)' },
      horizon_weeks: { title: 'Horizon (weeks)', description: 'How many weeks the plan covers, 1 to 104' },
    },
  },
};

export interface FlowView {
  name: FlowName;
  description: string;
  agents: string[];
  input_schema: Record<string, unknown>;
}

function labelled(name: FlowName): z.ZodObject {
  const schema: z.ZodObject = FLOW_INPUT_SCHEMAS[name];
  const labels = FLOW_TEXT[name].fields as Record<string, Label>;
  return schema.extend(
    Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => [key, field.meta(labels[key]!)])),
  );
}

/** Built once: nothing here changes while the process runs. `io: 'input'` = what a client sends (defaults optional). */
export const FLOWS: readonly FlowView[] = FLOW_NAMES.map((name) => ({
  name,
  description: FLOW_TEXT[name].description,
  agents: COUNCIL_OF_LORDS.filter((l) => l.default_flow === name || EXTRA_FLOWS[l.key]?.includes(name)).map(
    (l) => l.key,
  ),
  input_schema: z.toJSONSchema(labelled(name), { io: 'input' }) as Record<string, unknown>,
}));
