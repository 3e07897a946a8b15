import type { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { agentSchema } from './agent.schemas';
import type { AgentListCache } from './agent-list.cache';

export interface AgentRoutesDeps {
  registry: AgentRegistryService;
  agentLists: AgentListCache;
}

const JSON_TYPE = 'application/json; charset=utf-8';

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
    handler: ({ req, res }, { registry, agentLists }) => {
      const workspaceId = req.workspace!.id;
      // Cached (nearly every request): the page serialized once, sent as res.json would send it.
      const page = agentLists.cachedPage(workspaceId);
      if (page !== undefined) {
        // The Content-Type res.json would end with (Express adds the charset to a string body's type); the
        // bytes sent as they are, without res.send parsing and formatting that type again per request. A
        // type set earlier keeps the old path: the string, whose type res.send gives the charset.
        if (!res.getHeader('Content-Type')) {
          res.setHeader('Content-Type', JSON_TYPE);
          res.send(page);
        } else res.send(page.toString('utf8'));
        return;
      }
      return agentLists
        .getOrLoad(workspaceId, async () =>
          (await registry.listAgents(workspaceId)).map((a) => ({
            id: a.id,
            key: a.key,
            name: a.name,
            domain: a.domain,
            description: a.description,
            default_flow: a.default_flow,
            default_model: a.default_model,
          })),
        )
        .then((data) => {
          // Seven rows per workspace: a single page, but in the list shape every list uses.
          res.json({ data, next_cursor: null });
        });
    },
  }),
];
