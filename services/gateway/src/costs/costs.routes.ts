import { endpointFactory } from '../http/endpoint';
import { costSummaryQuery, costSummarySchema, dailyCostsQuery, dailyCostsSchema } from './cost.schemas';
import type { CostSummaryService } from './cost-summary.service';

export interface CostRoutesDeps {
  costs: CostSummaryService;
}

const CostSummary = costSummarySchema.meta({ id: 'CostSummary' });
const DailyCosts = dailyCostsSchema.meta({ id: 'DailyCosts' });
const define = endpointFactory<CostRoutesDeps>();

export const costEndpoints = [
  define({
    method: 'get',
    path: '/v1/costs/summary',
    role: 'member',
    tags: ['costs'],
    summary: "The workspace's month: budget, spent, reserved, remaining, by model",
    query: costSummaryQuery,
    responses: { 200: { schema: CostSummary, description: 'The month summary' } },
    handler: async ({ req, res, query }, { costs }) => {
      res.json(await costs.summary(req.workspace!.id, query.month));
    },
  }),
  define({
    method: 'get',
    path: '/v1/costs/daily',
    role: 'member',
    tags: ['costs'],
    summary: 'Spend per UTC day and model (from the cost-ledger rollups)',
    query: dailyCostsQuery,
    responses: { 200: { schema: DailyCosts, description: 'Days in the range that had spend' } },
    handler: async ({ req, res, query }, { costs }) => {
      res.json(await costs.daily(req.workspace!.id, query.from, query.to));
    },
  }),
];
