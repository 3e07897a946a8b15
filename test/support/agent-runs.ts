import type { Job, Queue } from 'bullmq';
import type { Knex } from 'knex';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { newTeam, newUser, newWorkspace } from './factories';
import type { TestTeam, TestUser, TestWorkspace } from './factories';
import { client, eventually } from './http';

/** The seven Lords of a workspace, as the seeder would write them. */
export function seedLords(db: Knex, workspaceId: string): Promise<number> {
  return new AgentRegistryService({ db }).seedWorkspace(workspaceId);
}

/**
 * A run written straight to the database, in whatever state a test needs: there is no agent-runner in the
 * gateway tests, so its progress is simulated by writing rows.
 */
export async function insertRun(
  db: Knex,
  workspaceId: string,
  agentKey: string,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; workspace_id: string; created_at: Date }> {
  const agent = await db('agents')
    .where({ workspace_id: workspaceId, key: agentKey })
    .first<{ id: string; default_flow: string }>('id', 'default_flow');
  if (!agent) throw new Error(`no agent ${agentKey} in ${workspaceId}; seed the Lords first`);
  const [row] = await db('agent_runs')
    .insert({
      workspace_id: workspaceId,
      agent_id: agent.id,
      agent_key: agentKey,
      flow: agent.default_flow,
      model: 'fast',
      input: JSON.stringify({ topic: 't' }),
      ...overrides,
    })
    .returning<Array<{ id: string; workspace_id: string; created_at: Date }>>([
      'id',
      'workspace_id',
      'created_at',
    ]);
  return row!;
}

/** A team (owner, admin, member) whose workspace has its Lords, and the header naming that workspace. */
export async function lordsTeam(db: Knex): Promise<TestTeam & { h: { headers: Record<string, string> } }> {
  const t = await newTeam(db);
  await seedLords(db, t.ws.id);
  return { ...t, h: { headers: { 'x-workspace-id': t.ws.id } } };
}

/** Every field of a run as the API shows it (list items, cancel answers). */
export const RUN_KEYS = [
  'agent',
  'completed_at',
  'cost_usd',
  'created_at',
  'duration_ms',
  'error',
  'flow',
  'id',
  'input',
  'input_tokens',
  'model',
  'output',
  'output_tokens',
  'parent_run_id',
  'stage',
  'started_at',
  'status',
];

/** A workspace with its seven Lords, owned by a fresh user. */
export async function lordsWorkspace(db: Knex): Promise<{ owner: TestUser; ws: TestWorkspace }> {
  const owner = await newUser();
  const ws = await newWorkspace(db, owner);
  await seedLords(db, ws.id);
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

/** The BullMQ job of a run's `agent.run.requested` event (its id is the event id), once it exists. */
export async function runJob(db: Knex, queue: Queue, runId: string, timeoutMs = 20_000): Promise<Job> {
  return eventually(async () => {
    const event = await db('event_outbox')
      .where({ event_type: 'agent.run.requested' })
      .whereRaw(`envelope->'payload'->>'agent_run_id' = ?`, [runId])
      .first<{ id: string } | undefined>('id');
    return event && (await queue.getJob(event.id));
  }, timeoutMs);
}

/**
 * Waits until a run's job is finished for good (completed or failed, not delayed for a retry) and returns its
 * attempts: a "never retried" check that can fail, since a retry keeps the job delayed until it has run again
 * (and then counts two attempts).
 */
export async function finalRunJob(
  db: Knex,
  queue: Queue,
  runId: string,
  timeoutMs = 20_000,
): Promise<{ state: string; attemptsMade: number }> {
  const job = await runJob(db, queue, runId, timeoutMs);
  return eventually(async () => {
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed') return undefined;
    return { state, attemptsMade: (await queue.getJob(job.id!))!.attemptsMade };
  }, timeoutMs);
}
