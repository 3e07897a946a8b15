import { z } from 'zod';
import { guardrailRulesSchema } from '@raptorflow/data/runs/flow-inputs';

/** PUT replaces the whole rule set; a list left out becomes empty (the shared schema's defaults). */
export const putGuardrailsBody = guardrailRulesSchema;

const phrases = z.array(z.string());
export const guardrailsSchema = z.object({
  workspace_id: z.uuid(),
  rules: z.object({
    banned_phrases: phrases.meta({ example: ['guaranteed results'] }),
    banned_claims: phrases.meta({ example: ['clinically proven'] }),
    required_disclaimers: phrases.meta({ example: ['Results may vary.'] }),
  }),
  updated_at: z.iso.datetime().nullable().meta({ description: 'null while the workspace has no rules yet' }),
});
