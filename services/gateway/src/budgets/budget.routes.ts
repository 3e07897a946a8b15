import { endpointFactory } from '../http/endpoint';
import { workspaceIdParams } from '../workspaces/workspace.schemas';
import { budgetSchema, putBudgetBody } from './budget.schemas';
import type { BudgetService } from './budget.service';

export interface BudgetRoutesDeps {
  budgets: BudgetService;
}

const Budget = budgetSchema.meta({ id: 'Budget' });
const define = endpointFactory<BudgetRoutesDeps>();

export const budgetEndpoints = [
  define({
    method: 'get',
    path: '/v1/workspaces/:workspace_id/budget',
    role: 'member',
    tags: ['budget'],
    summary: 'The monthly budget (members)',
    params: workspaceIdParams,
    responses: { 200: { schema: Budget, description: 'The budget' } },
    handler: async ({ req, res }, { budgets }) => {
      res.json(await budgets.get(req.workspace!.id));
    },
  }),
  define({
    method: 'put',
    path: '/v1/workspaces/:workspace_id/budget',
    role: 'owner',
    tags: ['budget'],
    summary: 'Set the monthly budget (owner)',
    params: workspaceIdParams,
    body: putBudgetBody,
    bodyExample: { monthly_budget_usd: 120 },
    responses: { 200: { schema: Budget, description: 'The new budget' } },
    handler: async ({ req, res, body }, { budgets }) => {
      res.json(await budgets.set(req.workspace!.id, req.auth!.userId, body.monthly_budget_usd));
    },
  }),
];
