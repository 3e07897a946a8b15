import { randomUUID } from 'node:crypto';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
afterAll(() => stack.close());

describe('publishing outside a transaction (batched outbox writes)', () => {
  it('writes every row and job of a burst, each exactly once', async () => {
    const envs = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        stack.bus.publish('test.event', { message: `m${i}` }, { workspaceId: null }),
      ),
    );
    const ids = envs.map((e) => e.event_id);
    const rows = await stack.db('event_outbox').whereIn('id', ids);
    expect(rows).toHaveLength(120);
    expect(rows.every((r) => r.enqueued_at !== null && r.attempts === 1)).toBe(true);
    const jobs = await Promise.all(ids.map((id) => stack.bus.queue('system').getJob(id)));
    expect(jobs.every((j) => j?.name === 'test.event')).toBe(true);
  });

  it('fails only the publish whose row cannot be written; its batch-mates still go out', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    const results = await Promise.allSettled([
      stack.bus.publish('test.event', { message: 'ok-1' }, { workspaceId: ws.id }),
      stack.bus.publish('test.event', { message: 'no such workspace' }, { workspaceId: randomUUID() }),
      stack.bus.publish('test.event', { message: 'ok-2' }, { workspaceId: ws.id }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const r of results.filter((x) => x.status === 'fulfilled'))
      expect(
        await stack.bus
          .queue('system')
          .getJob((r as PromiseFulfilledResult<{ event_id: string }>).value.event_id),
      ).toBeDefined();
  });

  it('enqueues the events of concurrent transactions after each commits, each once, and never a rolled-back one', async () => {
    const committed = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stack.db.transaction((trx) =>
          stack.bus.publish('test.event', { message: `tx${i}` }, { trx, workspaceId: null }),
        ),
      ),
    );
    const rolledBack = randomUUID();
    await expect(
      stack.db.transaction(async (trx) => {
        await stack.bus.publish('test.event', {}, { trx, workspaceId: null, eventId: rolledBack });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const ids = committed.map((e) => e.event_id);
    await eventually(
      async () =>
        (await stack.db('event_outbox').whereIn('id', ids).whereNotNull('enqueued_at')).length === 30,
    );
    const rows = await stack.db('event_outbox').whereIn('id', ids);
    expect(rows.every((r) => r.attempts === 1 && r.last_error === null)).toBe(true);
    const jobs = await Promise.all(ids.map((id) => stack.bus.queue('system').getJob(id)));
    expect(jobs.every((j) => j?.name === 'test.event')).toBe(true);
    expect(await stack.db('event_outbox').where({ id: rolledBack })).toHaveLength(0);
    expect(await stack.bus.queue('system').getJob(rolledBack)).toBeUndefined();
  });

  it('treats a repeated event id within one burst as one event', async () => {
    const eventId = randomUUID();
    await Promise.all(
      Array.from({ length: 5 }, () => stack.bus.publish('test.event', {}, { workspaceId: null, eventId })),
    );
    expect(await stack.db('event_outbox').where({ id: eventId })).toHaveLength(1);
    expect((await stack.bus.queue('system').getJobCounts('waiting')).waiting).toBeGreaterThanOrEqual(1);
  });
});
