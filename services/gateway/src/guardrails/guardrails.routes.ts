import { Router } from 'express';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { putGuardrailsBody } from './guardrail.schemas';
import type { GuardrailService } from './guardrail.service';

/** Mounted at /v1/workspaces/:workspace_id/guardrails: members read, admins and owners write. */
export function guardrailsRouter({
  guardrails,
  guards,
}: {
  guardrails: GuardrailService;
  guards: WorkspaceGuards;
}): Router {
  const router = Router({ mergeParams: true });
  router.use(guards.requireWorkspaceMember());

  router.get('/', async (req, res) => {
    res.json(await guardrails.get(req.workspace!.id));
  });

  router.put('/', guards.requireWorkspaceRole('admin'), async (req, res) => {
    const rules = parseOrThrow(putGuardrailsBody, req.body ?? {}, 'body');
    res.json(await guardrails.set(req.workspace!.id, req.auth!.userId, rules));
  });

  return router;
}
