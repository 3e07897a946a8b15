// RaptorBus.publishMany: several events of one caller's transaction in one outbox statement, each built in
// its own caller's context, enqueued once the transaction commits and never when it rolls back.
import { randomUUID } from 'node:crypto';
import { getContext, runWithContext } from '@raptorflow/core/context/request-context';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
afterAll(() => stack.close());

/** Counts the statements that insert into event_outbox while `fn` runs. */
async function outboxInserts<T>(fn: () => Promise<T>): Promise<{ value: T; inserts: number }> {
  let inserts = 0;
  const onQuery = (q: { sql: string }) => {
    if (/insert into "event_outbox"/i.test(q.sql)) inserts++;
  };
  stack.db.on('query', onQuery);
  try {
    return { value: await fn(), inserts };
  } finally {
    stack.db.off('query', onQuery);
  }
}

it('writes the events in one statement, each with its own context, and enqueues them after the commit', async () => {
  // Each event is built in the context of the call it belongs to, as the dispatch trail hands them over.
  const contexts = Array.from({ length: 12 }, (_, i) =>
    runWithContext({ correlationId: `corr-${i}` }, () => {
      const ctx = getContext()!;
      return <R>(fn: () => R): R => runWithContext(ctx, fn);
    }),
  );
  const { value: envelopes, inserts } = await outboxInserts(() =>
    stack.db.transaction((trx) =>
      stack.bus.publishMany(
        contexts.map((inContext, i) => ({
          type: 'test.event' as const,
          payload: { message: `m${i}` },
          opts: { workspaceId: null },
          inContext,
        })),
        trx,
      ),
    ),
  );
  expect(inserts).toBe(1);
  expect(envelopes.map((e) => e.correlation_id)).toEqual(contexts.map((_, i) => `corr-${i}`));
  const ids = envelopes.map((e) => e.event_id);
  await eventually(
    async () =>
      (await stack.db('event_outbox').whereIn('id', ids).whereNotNull('enqueued_at')).length === ids.length,
  );
  const jobs = await Promise.all(ids.map((id) => stack.bus.queue('system').getJob(id)));
  expect(jobs.map((j) => (j?.data as { payload: { message: string } }).payload.message)).toEqual(
    contexts.map((_, i) => `m${i}`),
  );
});

it('writes nothing and enqueues nothing when the transaction rolls back', async () => {
  const eventIds = [randomUUID(), randomUUID()];
  await expect(
    stack.db.transaction(async (trx) => {
      await stack.bus.publishMany(
        eventIds.map((eventId) => ({
          type: 'test.event' as const,
          payload: {},
          opts: { workspaceId: null, eventId },
        })),
        trx,
      );
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  expect(await stack.db('event_outbox').whereIn('id', eventIds)).toHaveLength(0);
  for (const id of eventIds) expect(await stack.bus.queue('system').getJob(id)).toBeUndefined();
});

it('refuses the whole batch, writing nothing, when one payload fails its schema', async () => {
  const good = randomUUID();
  await expect(
    stack.db.transaction((trx) =>
      stack.bus.publishMany(
        [
          { type: 'test.event' as const, payload: {}, opts: { workspaceId: null, eventId: good } },
          // A cost.recorded without its fields.
          { type: 'cost.recorded' as const, payload: {} as never, opts: { workspaceId: null } },
        ],
        trx,
      ),
    ),
  ).rejects.toThrow(/payload/);
  expect(await stack.db('event_outbox').where({ id: good })).toHaveLength(0);
});

it('skips an event id already published, as publish does', async () => {
  const eventId = randomUUID();
  await stack.db.transaction((trx) =>
    stack.bus.publish('test.event', { message: 'first' }, { trx, workspaceId: null, eventId }),
  );
  await stack.db.transaction((trx) =>
    stack.bus.publishMany(
      [{ type: 'test.event' as const, payload: { message: 'again' }, opts: { workspaceId: null, eventId } }],
      trx,
    ),
  );
  const rows = await stack.db('event_outbox').where({ id: eventId });
  expect(rows).toHaveLength(1);
  expect(rows[0].envelope.payload).toEqual({ message: 'first' });
});
