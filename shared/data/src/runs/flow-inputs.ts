import { z } from 'zod';
import type { FlowName } from '../repositories/agent-run.rows';

/** SPEC §9: what each flow takes. The gateway validates a run's input against these (422 otherwise). */
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const FLOW_INPUT_SCHEMAS = {
  research: z.strictObject({
    topic: text(500),
    audience: text(300).optional(),
    depth: z.enum(['quick', 'standard', 'deep']).default('standard'),
  }),
  muse: z.strictObject({
    brief: text(5_000),
    channel: text(100),
    tone: text(100).optional(),
  }),
  matrix: z.strictObject({
    objective: text(2_000),
    budget_usd: z.number().min(0).max(100_000_000).optional(),
    horizon_weeks: z.number().int().min(1).max(104).default(4),
  }),
  guardian: z.strictObject({
    content: text(50_000),
  }),
  // A campaign: research → plan → draft → compliance → one message per channel, each a child run.
  campaign: z.strictObject({
    objective: text(2_000),
    audience: text(300).optional(),
    channels: z.array(text(100)).min(1).max(5),
    tone: text(100).optional(),
    horizon_weeks: z.number().int().min(1).max(104).default(4),
  }),
} satisfies Record<FlowName, z.ZodType>;

/**
 * Flows a Lord runs besides its default one (`POST /v1/agent-runs {agent, flow}`): the campaign is
 * Strategos's, who plans it and hands its stages to the other Lords as child runs.
 */
export const EXTRA_FLOWS: Readonly<Record<string, readonly FlowName[]>> = { strategos: ['campaign'] };

export type FlowInput<F extends FlowName> = z.output<(typeof FLOW_INPUT_SCHEMAS)[F]>;

export const FLOW_NAMES = Object.keys(FLOW_INPUT_SCHEMAS) as FlowName[];

const phraseList = z.array(text(500)).max(200).default([]);

/** A workspace's guardrails (`workspace_guardrails.rules`), editable by admins; matched case-insensitively. */
export const guardrailRulesSchema = z.strictObject({
  banned_phrases: phraseList,
  banned_claims: phraseList,
  required_disclaimers: phraseList,
  /** Every piece of content the Arbiter checks waits for an owner's or admin's approval, flagged or not. */
  require_approval: z.boolean().optional(),
});

export type GuardrailRules = z.output<typeof guardrailRulesSchema>;

export const EMPTY_GUARDRAILS: GuardrailRules = {
  banned_phrases: [],
  banned_claims: [],
  required_disclaimers: [],
};
