import { z } from 'zod';

export const agentSchema = z.object({
  id: z.uuid(),
  key: z.string().meta({ example: 'cognition' }),
  name: z.string().meta({ example: 'Cognition' }),
  domain: z.string(),
  description: z.string(),
  default_flow: z.enum(['research', 'muse', 'matrix', 'guardian']),
  default_model: z.enum(['fast', 'standard', 'heavy']),
});

/** An agent as the API lists it (the zod schema above documents it in OpenAPI). */
export interface AgentView {
  id: string;
  key: string;
  name: string;
  domain: string;
  description: string;
  default_flow: string;
  default_model: string;
}
