import { Router } from 'express';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { costSummaryQuery, dailyCostsQuery } from './cost.schemas';
import type { CostSummaryService } from './cost-summary.service';

/** Mounted at /v1/costs (members). */
export function costsRouter(deps: { costs: CostSummaryService; guards: WorkspaceGuards }): Router {
  const router = Router();
  router.get('/summary', deps.guards.requireWorkspaceMember(), async (req, res) => {
    const query = parseOrThrow(costSummaryQuery, req.query, 'query');
    res.json(await deps.costs.summary(req.workspace!.id, query.month));
  });
  router.get('/daily', deps.guards.requireWorkspaceMember(), async (req, res) => {
    const query = parseOrThrow(dailyCostsQuery, req.query, 'query');
    res.json(await deps.costs.daily(req.workspace!.id, query.from, query.to));
  });
  return router;
}
