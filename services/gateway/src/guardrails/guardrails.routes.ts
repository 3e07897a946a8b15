import { endpointFactory } from '../http/endpoint';
import { workspaceIdParams } from '../workspaces/workspace.schemas';
import { guardrailsSchema, putGuardrailsBody } from './guardrail.schemas';
import type { GuardrailService } from './guardrail.service';

export interface GuardrailRoutesDeps {
  guardrails: GuardrailService;
}

const Guardrails = guardrailsSchema.meta({ id: 'Guardrails' });
const define = endpointFactory<GuardrailRoutesDeps>();

/** Members read, admins and owners write. */
export const guardrailEndpoints = [
  define({
    method: 'get',
    path: '/v1/workspaces/:workspace_id/guardrails',
    role: 'member',
    tags: ['guardrails'],
    summary: "The workspace's guardrails, checked by Arbiter's guardian flow (members)",
    params: workspaceIdParams,
    responses: { 200: { schema: Guardrails, description: 'The rules; empty lists until set' } },
    handler: async ({ req, res }, { guardrails }) => {
      res.json(await guardrails.get(req.workspace!.id));
    },
  }),
  define({
    method: 'put',
    path: '/v1/workspaces/:workspace_id/guardrails',
    role: 'admin',
    tags: ['guardrails'],
    summary: 'Replace the guardrails (admin+); audited with before and after',
    params: workspaceIdParams,
    body: putGuardrailsBody,
    bodyExample: {
      banned_phrases: ['guaranteed results'],
      banned_claims: [],
      required_disclaimers: ['Results may vary.'],
    },
    responses: { 200: { schema: Guardrails, description: 'The new rules' } },
    handler: async ({ req, res, body }, { guardrails }) => {
      res.json(await guardrails.set(req.workspace!.id, req.auth!.userId, body));
    },
  }),
];
