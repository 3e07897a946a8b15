import type { Knex } from 'knex';
import { AgentRegistryService } from '../../shared/src';
import { newUser, newWorkspace } from './factories';
import type { TestUser, TestWorkspace } from './factories';
import { client, eventually } from './http';

/** A workspace with its seven Lords, owned by a fresh user. */
export async function lordsWorkspace(db: Knex): Promise<{ owner: TestUser; ws: TestWorkspace }> {
  const owner = await newUser();
  const ws = await newWorkspace(db, owner);
  await new AgentRegistryService({ db }).seedWorkspace(ws.id);
  return { owner, ws };
}

export function runsClient(url: string, owner: TestUser, ws: TestWorkspace) {
  const c = client(url, owner.token);
  const h = { headers: { 'x-workspace-id': ws.id } };
  return {
    async create(body: { agent: string; input: unknown; model?: string }): Promise<string> {
      const res = await c.post('/v1/agent-runs', body, h);
      if (res.status !== 202) throw new Error(`create run: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    },
    get: async (id: string) => (await c.get(`/v1/agent-runs/${id}`, h)).body,
    cancel: (id: string) => c.post(`/v1/agent-runs/${id}/cancel`, {}, h),
    /** Polls until the run reaches one of `statuses`; returns the run as the API shows it. */
    async until(id: string, statuses: string[], timeoutMs = 30_000): Promise<any> {
      return eventually(
        async () => {
          const run = (await c.get(`/v1/agent-runs/${id}`, h)).body;
          return statuses.includes(run.status) ? run : undefined;
        },
        timeoutMs,
        100,
      );
    },
  };
}
