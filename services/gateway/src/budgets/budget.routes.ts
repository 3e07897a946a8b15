import { Router } from 'express';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { putBudgetBody } from './budget.schemas';
import type { BudgetService } from './budget.service';

/** Mounted at /v1/workspaces/:workspace_id/budget. */
export function budgetRouter({
  budgets,
  guards,
}: {
  budgets: BudgetService;
  guards: WorkspaceGuards;
}): Router {
  const router = Router({ mergeParams: true });
  router.use(guards.requireWorkspaceMember());

  router.get('/', async (req, res) => {
    res.json(await budgets.get(req.workspace!.id));
  });

  router.put('/', guards.requireWorkspaceRole('owner'), async (req, res) => {
    const body = parseOrThrow(putBudgetBody, req.body ?? {}, 'body');
    res.json(await budgets.set(req.workspace!.id, req.auth!.userId, body.monthly_budget_usd));
  });

  return router;
}
