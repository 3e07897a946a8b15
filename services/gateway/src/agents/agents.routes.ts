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
        // What res.send would answer for these bytes, without its per-request work: the Content-Type
        // res.json ends with, the length, the bytes (ETags are off app-wide; Node sends no body to a HEAD).
        // A conditional request (`If-None-Match: *` can make it a 304) or a type set earlier goes through
        // res.send as before.
        const { headers } = req;
        if (res.getHeader('Content-Type')) res.send(page.toString('utf8'));
        else if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) {
          res.setHeader('Content-Type', JSON_TYPE);
          res.send(page);
        } else {
          res.setHeader('Content-Type', JSON_TYPE);
          res.setHeader('Content-Length', page.length);
          res.end(page);
        }
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
