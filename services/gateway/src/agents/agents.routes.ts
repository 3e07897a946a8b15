import { Router } from 'express';
import type { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { AgentListCache } from './agent-list.cache';

export interface AgentRoutesDeps {
  registry: AgentRegistryService;
  guards: WorkspaceGuards;
  cache?: AgentListCache;
}

export function agentsRouter({
  registry,
  guards,
  cache = new AgentListCache({ ttlMs: 0, max: 0 }),
}: AgentRoutesDeps): Router {
  const router = Router();
  // Seven rows per workspace: a single page, but in the list shape every list uses.
  router.get('/', guards.requireWorkspaceMember(), async (req, res) => {
    const data = await cache.getOrLoad(req.workspace!.id, async () =>
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
    res.json({ data, next_cursor: null });
  });
  return router;
}
