import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { newUser } from './factories';
import type { TestUser, TestWorkspace } from './factories';
import { eventually } from './http';
import { inBatches, outputTail, whileAlive } from './processes';
import type { ServiceGroup } from './processes';
import type { TestStack } from './stack';

/**
 * Seeding fault tests: many workspaces of one fresh owner (so queries never see other tests' rows in this
 * jest worker's database) and one `workspace.created` event each, published through the real bus.
 */
export interface SeedingBatch {
  owner: TestUser;
  workspaces: TestWorkspace[];
  eventIds: string[];
}

export async function workspacesWithEvents(stack: TestStack, count: number): Promise<SeedingBatch> {
  const owner = await newUser();
  const workspaces = await newWorkspaces(stack.db, owner, count);
  // 50 publishes at a time (outbox row, BullMQ add, row marked) over the pool of 5 connections.
  const envelopes = await inBatches(workspaces, 50, (ws) =>
    stack.bus.publish(
      'workspace.created',
      { workspace_id: ws.id, name: ws.name, created_by: owner.id },
      { workspaceId: ws.id },
    ),
  );
  return { owner, workspaces, eventIds: envelopes.map((e) => e.event_id) };
}

/** Like factories' newWorkspace (no event), `count` at once: two INSERTs instead of 2 × count. */
export async function newWorkspaces(db: Knex, owner: TestUser, count: number): Promise<TestWorkspace[]> {
  return db.transaction(async (trx) => {
    const workspaces = await trx('workspaces')
      .insert(
        Array.from({ length: count }, (_, i) => ({
          name: `ws-${i}-${owner.id.slice(0, 8)}`,
          created_by: owner.id,
        })),
      )
      .returning<TestWorkspace[]>(['id', 'name']);
    await trx('workspace_members').insert(
      workspaces.map((ws) => ({ workspace_id: ws.id, user_id: owner.id, role: 'owner' })),
    );
    return workspaces;
  });
}

/** How many of the owner's workspaces have their Lords (seeding inserts all seven in one statement). */
export async function seededWorkspaces(db: Knex, ownerId: string): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: string }> }>(
    `SELECT count(DISTINCT a.workspace_id) AS n
       FROM agents a JOIN workspaces w ON w.id = a.workspace_id
      WHERE w.created_by = ?`,
    [ownerId],
  );
  return Number(rows[0]!.n);
}

export interface SeedingReport {
  workspaces: number;
  /** Workspaces whose agent count is not exactly seven, with that count. */
  notSeven: Array<{ id: string; n: number }>;
  agents: number;
  distinctAgents: number;
  /** `workspace.seeded` audit rows, their distinct event ids, and the sum of their `agents_created`. */
  seededAudits: number;
  seededAuditEvents: number;
  agentsCreatedByAudits: number;
  /** Audit rows' event ids that are not one of the published events (should be none). */
  foreignAuditEvents: number;
}

/** The final state of an owner's workspaces: what "every workspace has exactly seven Lords, once" checks. */
export async function seedingReport(db: Knex, ownerId: string, eventIds: string[]): Promise<SeedingReport> {
  const notSeven = await db.raw<{ rows: Array<{ id: string; n: string }> }>(
    `SELECT w.id, count(a.id) AS n
       FROM workspaces w LEFT JOIN agents a ON a.workspace_id = w.id
      WHERE w.created_by = ?
      GROUP BY w.id HAVING count(a.id) <> 7`,
    [ownerId],
  );
  const agents = await db.raw<{
    rows: Array<{ workspaces: string; agents: string; distinct_agents: string }>;
  }>(
    `SELECT (SELECT count(*) FROM workspaces WHERE created_by = ?) AS workspaces,
            count(a.id) AS agents,
            count(DISTINCT (a.workspace_id, a.key)) AS distinct_agents
       FROM agents a JOIN workspaces w ON w.id = a.workspace_id
      WHERE w.created_by = ?`,
    [ownerId, ownerId],
  );
  const audits = await db.raw<{
    rows: Array<{ n: string; events: string; created: string; foreign: string }>;
  }>(
    `SELECT count(*) AS n,
            count(DISTINCT l.event_id) AS events,
            coalesce(sum((l.output->>'agents_created')::int), 0) AS created,
            count(*) FILTER (WHERE NOT (l.event_id = ANY (?::uuid[]))) AS foreign
       FROM audit_logs l JOIN workspaces w ON w.id = l.workspace_id
      WHERE l.action = 'workspace.seeded' AND w.created_by = ?`,
    [eventIds, ownerId],
  );
  const a = agents.rows[0]!;
  const l = audits.rows[0]!;
  return {
    workspaces: Number(a.workspaces),
    notSeven: notSeven.rows.map((r) => ({ id: r.id, n: Number(r.n) })),
    agents: Number(a.agents),
    distinctAgents: Number(a.distinct_agents),
    seededAudits: Number(l.n),
    seededAuditEvents: Number(l.events),
    agentsCreatedByAudits: Number(l.created),
    foreignAuditEvents: Number(l.foreign),
  };
}

/** The report of a batch whose every event was handled exactly once in effect. */
export function perfectSeeding(count: number): SeedingReport {
  return {
    workspaces: count,
    notSeven: [],
    agents: count * 7,
    distinctAgents: count * 7,
    seededAudits: count,
    seededAuditEvents: count,
    agentsCreatedByAudits: count * 7,
    foreignAuditEvents: 0,
  };
}

export interface JobCounts {
  wait: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/** A queue's job counts, every state present. */
export async function jobCounts(queue: Queue): Promise<JobCounts> {
  const c = await queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');
  return {
    wait: c.wait ?? 0,
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    completed: c.completed ?? 0,
    failed: c.failed ?? 0,
  };
}

/**
 * Starts another seeder process and waits until the queue has completed `count` jobs; a timeout or an early
 * exit fails with the job counts and the seeder's output.
 */
export async function finishWithNewSeeder(
  services: ServiceGroup,
  env: NodeJS.ProcessEnv,
  queue: Queue,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const seeder = await services.spawn('seeder', env);
  await whileAlive(
    'second seeder',
    seeder.child,
    eventually(async () => (await queue.getJobCounts('completed')).completed === count, timeoutMs, 100),
  ).catch(async (err: Error) => {
    const counts = await jobCounts(queue);
    throw new Error(`${err.message}\njobs: ${JSON.stringify(counts)}\nseeder:\n${outputTail(seeder.child)}`);
  });
}
