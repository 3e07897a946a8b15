import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { FlowDefinition } from './flow.types';
import { campaignFlow } from './campaign.flow';
import { guardianFlow } from './guardian.flow';
import { matrixFlow } from './matrix.flow';
import { museFlow } from './muse.flow';
import { researchFlow } from './research.flow';

/** Every flow a Lord can run (SPEC §9), by the name stored on its runs. */
export const FLOWS: Record<FlowName, FlowDefinition> = {
  research: researchFlow,
  muse: museFlow,
  matrix: matrixFlow,
  guardian: guardianFlow,
  campaign: campaignFlow,
};
