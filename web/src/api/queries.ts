import { useQuery } from '@tanstack/react-query';
import { useApi } from '../app/session';
import { unwrap, ws } from './client';
import type { Api } from './client';
import type { Workspace } from './types';

/** Query keys: every workspace-scoped key starts with the workspace id, so switching never mixes data. */
export const keys = {
  workspaces: ['workspaces'] as const,
  flows: ['flows'] as const,
  agents: (w: string) => [w, 'agents'] as const,
  stats: (w: string, from: string) => [w, 'run-stats', from] as const,
  runs: (w: string, filters: Record<string, string | undefined>) => [w, 'runs', filters] as const,
  run: (w: string, id: string) => [w, 'run', id] as const,
  costSummary: (w: string, month: string) => [w, 'cost-summary', month] as const,
  dailyCosts: (w: string, from: string, to: string) => [w, 'daily-costs', from, to] as const,
  budget: (w: string) => [w, 'budget'] as const,
  members: (w: string) => [w, 'members'] as const,
  guardrails: (w: string) => [w, 'guardrails'] as const,
  audit: (w: string, filters: Record<string, string | undefined>) => [w, 'audit', filters] as const,
  memory: (w: string, filters: Record<string, string | undefined>) => [w, 'memory', filters] as const,
};

/** Every page of the caller's workspaces (100 a page). */
export async function fetchAllWorkspaces(api: Api): Promise<Workspace[]> {
  const all: Workspace[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await unwrap(
      api.GET('/v1/workspaces', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    );
    all.push(...page.data);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return all;
}

export function useWorkspaces() {
  const api = useApi();
  return useQuery({ queryKey: keys.workspaces, queryFn: () => fetchAllWorkspaces(api) });
}

export function useFlows() {
  const api = useApi();
  return useQuery({
    queryKey: keys.flows,
    queryFn: () => unwrap(api.GET('/v1/flows')),
    staleTime: 10 * 60_000,
  });
}

export function useAgents(workspaceId: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.agents(workspaceId),
    queryFn: () => unwrap(api.GET('/v1/agents', { params: { header: ws(workspaceId) } })),
    // A new workspace is seated by the seeder a moment after it is created: look again until it is.
    refetchInterval: (q) => (q.state.data && q.state.data.data.length === 0 ? 1_000 : false),
  });
}

/** The first instant of the current UTC month (the cost ledger's months are UTC). */
export function monthStartIso(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

export function useRunStats(workspaceId: string, from: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.stats(workspaceId, from),
    queryFn: () =>
      unwrap(api.GET('/v1/agent-runs/stats', { params: { header: ws(workspaceId), query: { from } } })),
  });
}
