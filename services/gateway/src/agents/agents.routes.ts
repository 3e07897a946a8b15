import type { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { agentSchema } from './agent.schemas';
import type { AgentListCache } from './agent-list.cache';

export interface AgentRoutesDeps {
  registry: AgentRegistryService;
  agentLists: AgentListCache;
}

const Agent = agentSchema.meta({ id: 'Agent' });
const define = endpointFactory<AgentRoutesDeps>();

export const agentEndpoints = [
  define({
    method: 'get',
    path: '/v1/agents',
    role: 'member',
    tags: ['agents'],
    summary: "The workspace's Council of Lords",
    responses: { 200: { schema: list(Agent), description: 'All seven Lords' } },
    handler: async ({ req, res }, { registry, agentLists }) => {
      const data = await agentLists.getOrLoad(req.workspace!.id, async () =>
        (await registry.listAgents(req.workspace!.id)).map((a) => ({
          id: a.id,
          key: a.key,
          name: a.name,
          domain: a.domain,
          description: a.description,
          default_flow: a.default_flow,
          default_model: a.default_model,
        })),
      );
      // Seven rows per workspace: a single page, but in the list shape every list uses.
      res.json({ data, next_cursor: null });
    },
  }),
];
