import { Router } from 'express';
import type { AgentRegistryService } from '@raptorflow/shared';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';

export interface AgentView {
  id: string;
  key: string;
  name: string;
  domain: string;
  description: string;
  default_flow: string;
  default_model: string;
}

export function agentsRouter(deps: { registry: AgentRegistryService; guards: WorkspaceGuards }): Router {
  const router = Router();
  // Seven rows per workspace: a single page, but in the list shape every list uses.
  router.get('/', deps.guards.requireWorkspaceMember(), async (req, res) => {
    const agents = await deps.registry.listAgents(req.workspace!.id);
    const data: AgentView[] = agents.map((a) => ({
      id: a.id,
      key: a.key,
      name: a.name,
      domain: a.domain,
      description: a.description,
      default_flow: a.default_flow,
      default_model: a.default_model,
    }));
    res.json({ data, next_cursor: null });
  });
  return router;
}
