import type { FlowName } from '../repositories/agent-run.rows';

export type ModelAlias = 'fast' | 'standard' | 'heavy';

export interface LordDefinition {
  key: string;
  name: string;
  domain: string;
  description: string;
  default_flow: FlowName;
  default_model: ModelAlias;
}

/** SPEC §9: the seven agents every workspace is seeded with. Keys are stable identifiers used by clients. */
export const COUNCIL_OF_LORDS: readonly LordDefinition[] = Object.freeze([
  {
    key: 'architect',
    name: 'Architect',
    domain: 'system design and evolution',
    description: 'Designs the marketing system as a whole: channels, funnels and how they evolve together.',
    default_flow: 'matrix',
    default_model: 'heavy',
  },
  {
    key: 'cognition',
    name: 'Cognition',
    domain: 'research and knowledge acquisition',
    description: 'Researches markets, audiences and competitors, and turns findings into a usable brief.',
    default_flow: 'research',
    default_model: 'standard',
  },
  {
    key: 'strategos',
    name: 'Strategos',
    domain: 'strategic planning and execution',
    description: 'Turns objectives into campaign plans with budgets, horizons and concrete tasks.',
    default_flow: 'matrix',
    default_model: 'standard',
  },
  {
    key: 'aesthete',
    name: 'Aesthete',
    domain: 'brand quality and creative oversight',
    description: 'Writes and refines creative work so it stays on brand and above the quality bar.',
    default_flow: 'muse',
    default_model: 'standard',
  },
  {
    key: 'seer',
    name: 'Seer',
    domain: 'trend analysis and intelligence',
    description: 'Watches trends and signals and reports what is changing and why it matters.',
    default_flow: 'research',
    default_model: 'fast',
  },
  {
    key: 'arbiter',
    name: 'Arbiter',
    domain: 'rules, compliance, conflict resolution',
    description:
      "Checks content against the workspace's rules: banned claims and phrases, required disclaimers.",
    default_flow: 'guardian',
    default_model: 'fast',
  },
  {
    key: 'herald',
    name: 'Herald',
    domain: 'communication and messaging',
    description: 'Crafts messages for each channel and audience, in the right tone.',
    default_flow: 'muse',
    default_model: 'fast',
  },
]);

export const LORD_KEYS = COUNCIL_OF_LORDS.map((l) => l.key);
