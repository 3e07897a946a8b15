import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  costSummaryQuery,
  costSummarySchema,
  dailyCostsQuery,
  dailyCostsSchema,
} from '../costs/cost.schemas';
import { dispatchBody, dispatchResult } from '../model/dispatch.schemas';
import { json, route, workspaceHeader } from './openapi.helpers';

const D = dispatchResult.meta({ id: 'DispatchResult' });
const S = costSummarySchema.meta({ id: 'CostSummary' });

export function registerModelAndCostPaths(registry: OpenAPIRegistry, auth: number[]): void {
  route(registry, {
    method: 'post',
    path: '/v1/model/dispatch',
    tags: ['model'],
    summary: 'One model call through the ModelDispatcher, admitted against the workspace budget',
    request: {
      headers: workspaceHeader,
      body: {
        content: {
          'application/json': {
            schema: dispatchBody,
            example: { model: 'fast', messages: [{ role: 'user', content: 'Three taglines for a bakery' }] },
          },
        },
      },
    },
    ok: [200, json(D, 'The answer, its usage and its exact cost')],
    errors: [400, ...auth, 402, 403, 502, 504],
  });
  route(registry, {
    method: 'get',
    path: '/v1/costs/summary',
    tags: ['costs'],
    summary: "The workspace's month: budget, spent, reserved, remaining, by model",
    request: { headers: workspaceHeader, query: costSummaryQuery },
    ok: [200, json(S, 'The month summary')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/costs/daily',
    tags: ['costs'],
    summary: 'Spend per UTC day and model (from the cost-ledger rollups)',
    request: { headers: workspaceHeader, query: dailyCostsQuery.in },
    ok: [200, json(dailyCostsSchema.meta({ id: 'DailyCosts' }), 'Days in the range that had spend')],
    errors: [...auth, 403],
  });
}
