import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { COUNCIL_OF_LORDS, LORD_KEYS } from '@raptorflow/data/domain/council-of-lords';
import { runWithContext } from '@raptorflow/core/context/request-context';
import { seederService } from '../support/seeder-wiring';
import { createSeederWorkers } from '../../services/seeder/src/seeder.worker';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';

const stack = openStack();
let workers: Worker[];

beforeAll(() => {
  workers = createSeederWorkers(
    seederService(stack.db, stack.redis),
    workerOptions(stack, 'seeder', { concurrency: 8 }),
  );
});
afterAll(() => stack.close(workers));

const agentCount = async (workspaceId: string) =>
  Number(
    (await stack.db('agents').where({ workspace_id: workspaceId }).count<{ c: string }[]>('* as c'))[0]!.c,
  );

describe('seeder worker (real Redis + PostgreSQL)', () => {
  it('seeds the seven Lords of SPEC §9 with their flows and model aliases', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    await stack.bus.publish(
      'workspace.created',
      { workspace_id: ws.id, name: ws.name, created_by: owner.id },
      { workspaceId: ws.id },
    );
    await eventually(async () => (await agentCount(ws.id)) === 7);
    const agents = await stack.db('agents').where({ workspace_id: ws.id }).orderBy('key');
    expect(agents.map((a) => a.key)).toEqual([...LORD_KEYS].sort());
    const flows = Object.fromEntries(agents.map((a) => [a.key, a.default_flow]));
    expect(flows).toEqual({
      cognition: 'research',
      seer: 'research',
      strategos: 'matrix',
      architect: 'matrix',
      aesthete: 'muse',
      herald: 'muse',
      arbiter: 'guardian',
    });
    for (const a of agents) {
      const def = COUNCIL_OF_LORDS.find((l) => l.key === a.key)!;
      expect(a).toMatchObject({ name: def.name, domain: def.domain, default_model: def.default_model });
      expect(a.description.length).toBeGreaterThan(10);
    }
  });

  it('stays at exactly seven Lords under ten concurrent duplicate events (distinct event ids)', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.bus.publish(
          'workspace.created',
          { workspace_id: ws.id, name: ws.name, created_by: owner.id },
          { workspaceId: ws.id },
        ),
      ),
    );
    // Waits for this workspace's ten events (the queue's completed count also holds other tests' jobs).
    const seededAudits = await eventually(async () => {
      const rows = await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'workspace.seeded' });
      return rows.length >= 10 ? rows : undefined;
    }, 15_000);
    expect(await agentCount(ws.id)).toBe(7);
    expect(seededAudits).toHaveLength(10); // one per event id
    expect(seededAudits.filter((r) => r.output.agents_created === 7)).toHaveLength(1);
  });

  it('handles the same event id published ten times concurrently once (job id = event id)', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    const eventId = randomUUID();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        stack.bus.publish(
          'workspace.created',
          { workspace_id: ws.id, name: ws.name, created_by: owner.id },
          { workspaceId: ws.id, eventId },
        ),
      ),
    );
    // Every publish succeeds; the outbox primary key admits the event once.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(await stack.db('event_outbox').where({ id: eventId })).toHaveLength(1);
    await eventually(async () => (await agentCount(ws.id)) === 7);
    await eventually(async () => (await stack.bus.queue('workspace').getJobState(eventId)) === 'completed');
    // Re-sending the same envelope (as the outbox relay would) adds no job while the first one is kept.
    const row = await stack.db('event_outbox').where({ id: eventId }).first();
    await stack.bus.enqueue(row.envelope);
    const audits = await stack.db('audit_logs').where({ event_id: eventId });
    expect(audits).toHaveLength(1);
  });

  it('test.event writes one audit row per event id carrying the publisher context, however often delivered', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    const service = seederService(stack.db, stack.redis);
    const env = await runWithContext(
      { correlationId: 'corr-smoke-1', userId: owner.id, workspaceId: ws.id },
      () => stack.bus.publish('test.event', { message: 'hello' }),
    );
    await eventually(
      async () => (await stack.db('audit_logs').where({ event_id: env.event_id })).length === 1,
    );
    // Redelivery straight to the service (as after a stalled job): still one row.
    await service.recordTestEvent(env, env.payload);
    await service.recordTestEvent(env, env.payload);
    const rows = await stack.db('audit_logs').where({ event_id: env.event_id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'test.event',
      workspace_id: ws.id,
      actor_type: 'user',
      actor_id: owner.id,
      correlation_id: 'corr-smoke-1',
      input: { message: 'hello' },
    });
  });

  it('skips a workspace deleted before its event is handled', async () => {
    const service = seederService(stack.db, stack.redis);
    await expect(service.seedWorkspace(randomUUID(), randomUUID())).resolves.toEqual({
      seeded: 0,
      skipped: 'workspace_missing',
    });
  });
});
