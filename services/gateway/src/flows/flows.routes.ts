import { z } from 'zod';
import { FLOW_NAMES } from '@raptorflow/data/runs/flow-inputs';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { FLOWS } from './flow-catalog';

// Static: the flows do not depend on the workspace, so any signed-in user may read them.
export type FlowRoutesDeps = object;

const Flow = z
  .object({
    name: z.enum(FLOW_NAMES as [FlowName, ...FlowName[]]),
    description: z.string(),
    agents: z.array(z.string()).meta({ description: 'The Lords whose default flow this is' }),
    input_schema: z.record(z.string(), z.unknown()).meta({
      description: "JSON Schema (2020-12) of the run's `input`, with a title and description per field",
    }),
  })
  .meta({ id: 'Flow' });
const define = endpointFactory<FlowRoutesDeps>();

export const flowEndpoints = [
  define({
    method: 'get',
    path: '/v1/flows',
    role: 'user',
    tags: ['agent-runs'],
    summary: "The Lords' flows: what each does, who runs it, and the JSON Schema of its input",
    responses: { 200: { schema: list(Flow), description: 'Every flow (a single page)' } },
    handler: ({ res }) => {
      res.json({ data: FLOWS, next_cursor: null });
    },
  }),
];
