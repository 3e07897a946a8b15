import { randomUUID } from 'node:crypto';
import { OutboxRelay } from '@raptorflow/events/bus/outbox-relay';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { EventOutboxRepository } from '@raptorflow/data/repositories/event-outbox.repository';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
afterAll(() => stack.close());

const outbox = () => new EventOutboxRepository(stack.db);

/** Outbox rows as a publisher whose enqueue never happened leaves them (pending, no attempt yet). */
async function pendingRows(n: number): Promise<string[]> {
  const envs = Array.from({ length: n }, (_, i) =>
    buildEnvelope('test.event', { message: `pending ${i}` }, { workspaceId: null }),
  );
  await outbox().insert(
    envs.map((e) => ({
      id: e.event_id,
      event_type: e.event_type,
      queue: 'system',
      workspace_id: null,
      envelope: JSON.stringify(e),
    })),
  );
  return envs.map((e) => e.event_id);
}

const relay = () =>
  new OutboxRelay({ db: stack.db, bus: stack.bus, intervalMs: 1_000, retentionHours: 24, minAgeMs: 0 });

describe('outbox relay, a batch per pass', () => {
  it('sends every claimed row in one pass and marks each once', async () => {
    const ids = await pendingRows(40);
    const tick = await relay().tick();
    expect(tick).toMatchObject({ leader: true, failed: 0 });
    expect(tick.sent).toBeGreaterThanOrEqual(40);
    const rows = await stack.db('event_outbox').whereIn('id', ids);
    expect(
      rows.every((r) => r.enqueued_at instanceof Date && r.attempts === 1 && r.last_error === null),
    ).toBe(true);
    const jobs = await Promise.all(ids.map((id) => stack.bus.queue('system').getJob(id)));
    expect(jobs.every((j) => j?.name === 'test.event' && j.data.event_id === j.id)).toBe(true);
    // Nothing left for a second pass: the marks committed with the sends.
    expect((await relay().tick()).sent).toBe(0);
  });

  it('backs off a row whose event type left the catalog on its own; its batch-mates go out', async () => {
    const ids = await pendingRows(3);
    const goneId = randomUUID();
    const gone = { ...buildEnvelope('test.event', {}, { workspaceId: null }), event_id: goneId };
    await outbox().insert([
      {
        id: goneId,
        event_type: 'retired.event',
        queue: 'system',
        workspace_id: null,
        envelope: JSON.stringify({ ...gone, event_type: 'retired.event' }),
      },
    ]);
    const tick = await relay().tick();
    expect(tick.failed).toBe(1);
    expect(tick.sent).toBeGreaterThanOrEqual(3);
    const row = await stack.db('event_outbox').where({ id: goneId }).first();
    expect(row).toMatchObject({ enqueued_at: null, attempts: 1 });
    expect(row.last_error).toMatch(/unknown event type retired\.event/);
    expect(row.available_at.getTime()).toBeGreaterThan(Date.now());
    expect(await stack.db('event_outbox').whereIn('id', ids).whereNull('enqueued_at')).toHaveLength(0);
  });

  it('drains a backlog larger than one batch pass after pass, without waiting an interval between them', async () => {
    const ids = await pendingRows(250);
    // An interval far longer than the test: only back-to-back passes can send all 250 rows.
    const draining = new OutboxRelay({
      db: stack.db,
      bus: stack.bus,
      intervalMs: 600_000,
      retentionHours: 24,
      minAgeMs: 0,
      batchSize: 50,
    });
    draining.start();
    try {
      await eventually(
        async () => (await stack.db('event_outbox').whereIn('id', ids).whereNull('enqueued_at')).length === 0,
        20_000,
      );
    } finally {
      await draining.stop();
    }
    const jobs = await Promise.all(ids.map((id) => stack.bus.queue('system').getJob(id)));
    expect(jobs.every((j) => j?.id !== undefined)).toBe(true);
  });
});
