import { randomUUID } from 'node:crypto';
import { OutboxRelay } from '@raptorflow/events/bus/outbox-relay';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';
import { getSettings } from '@raptorflow/core/config/settings';

const stack = openStack();
afterAll(() => stack.close());
// The configured pace and retention; a test overrides what it drives.
const RELAY_TIMING = {
  intervalMs: getSettings().outbox.relayIntervalMs,
  retentionHours: getSettings().outbox.retentionHours,
};

/** A bus whose Redis never answers: publishes commit their outbox row and leave it pending. */
function deadBus() {
  return new RaptorBus({
    db: stack.db,
    prefix: stack.prefix,
    connection: createRedis('producer', 'redis://127.0.0.1:1'),
    enqueueTimeoutMs: 300,
  });
}

async function pendingEvent() {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const bus = deadBus();
  try {
    const env = await bus.publish(
      'workspace.created',
      { workspace_id: ws.id, name: ws.name, created_by: owner.id },
      { workspaceId: ws.id },
    );
    return env.event_id;
  } finally {
    await bus.close();
  }
}

describe('outbox relay', () => {
  it('keeps an event whose enqueue failed, then the relay delivers it once Redis answers', async () => {
    const eventId = await pendingEvent();
    const row = await stack.db('event_outbox').where({ id: eventId }).first();
    expect(row).toMatchObject({ enqueued_at: null, attempts: 1 });
    expect(row.last_error).toMatch(/Redis|Connection|closed/i);
    expect(await stack.bus.queue('workspace').getJob(eventId)).toBeUndefined();

    const relay = new OutboxRelay({ ...RELAY_TIMING, db: stack.db, bus: stack.bus, minAgeMs: 0 });
    const tick = await relay.tick();
    expect(tick).toMatchObject({ leader: true, failed: 0 });
    expect(tick.sent).toBeGreaterThanOrEqual(1);
    expect((await stack.bus.queue('workspace').getJob(eventId))?.name).toBe('workspace.created');
    expect((await stack.db('event_outbox').where({ id: eventId }).first()).enqueued_at).toBeInstanceOf(Date);
  });

  it('backs off a row while Redis is down instead of retrying it every tick', async () => {
    const eventId = await pendingEvent();
    const relay = new OutboxRelay({ ...RELAY_TIMING, db: stack.db, bus: deadBus(), minAgeMs: 0 });
    const tick = await relay.tick();
    expect(tick.failed).toBe(1);
    const row = await stack.db('event_outbox').where({ id: eventId }).first();
    expect(row.enqueued_at).toBeNull();
    expect(row.available_at.getTime()).toBeGreaterThan(Date.now());
    expect(row.attempts).toBe(2);
  });

  it('has one leader per pass: two relays racing send each row once', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, pendingEvent));
    const relays = [0, 1, 2].map(
      () => new OutboxRelay({ ...RELAY_TIMING, db: stack.db, bus: stack.bus, minAgeMs: 0 }),
    );
    const ticks = await Promise.all(relays.map((r) => r.tick()));
    expect(ticks.reduce((n, t) => n + t.sent, 0)).toBeGreaterThanOrEqual(5);
    for (const id of ids) expect(await stack.bus.queue('workspace').getJob(id)).toBeDefined();
    const stillPending = await stack.db('event_outbox').whereIn('id', ids).whereNull('enqueued_at');
    expect(stillPending).toHaveLength(0);
  });

  it('writes nothing when the publishing transaction rolls back', async () => {
    const owner = await newUser();
    const eventId = randomUUID();
    await expect(
      stack.db.transaction(async (trx) => {
        const [ws] = await trx('workspaces')
          .insert({ name: 'rolled back', created_by: owner.id })
          .returning('id');
        await stack.bus.publish(
          'workspace.created',
          { workspace_id: ws.id, name: 'x', created_by: owner.id },
          { trx, eventId, workspaceId: ws.id },
        );
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    // A committed event published after it reaches the queue: anything the rolled-back one would have
    // enqueued after its (non-)commit would be there by now too.
    const ws = await newWorkspace(stack.db, owner);
    const marker = await stack.bus.publish(
      'workspace.created',
      { workspace_id: ws.id, name: ws.name, created_by: owner.id },
      { workspaceId: ws.id },
    );
    await eventually(async () => !!(await stack.bus.queue('workspace').getJob(marker.event_id)));
    expect(await stack.db('event_outbox').where({ id: eventId })).toHaveLength(0);
    expect(await stack.bus.queue('workspace').getJob(eventId)).toBeUndefined();
  });

  it('prunes enqueued rows older than the retention, never pending ones', async () => {
    const sent = await pendingEvent();
    const pending = await pendingEvent();
    await stack
      .db('event_outbox')
      .where({ id: sent })
      .update({ enqueued_at: stack.db.raw(`now() - interval '200 hours'`) });
    await stack
      .db('event_outbox')
      .where({ id: pending })
      .update({
        created_at: stack.db.raw(`now() - interval '300 hours'`),
        available_at: stack.db.raw(`now() + interval '1 hour'`),
      });
    const tick = await new OutboxRelay({
      ...RELAY_TIMING,
      db: stack.db,
      bus: stack.bus,
      minAgeMs: 0,
      retentionHours: 168,
      pruneEveryMs: 0,
    }).tick();
    expect(tick.pruned).toBeGreaterThanOrEqual(1);
    expect(await stack.db('event_outbox').where({ id: sent })).toHaveLength(0);
    expect(await stack.db('event_outbox').where({ id: pending })).toHaveLength(1);
  });

  it('runs on its own timer once started', async () => {
    const eventId = await pendingEvent();
    const relay = new OutboxRelay({
      ...RELAY_TIMING,
      db: stack.db,
      bus: stack.bus,
      minAgeMs: 0,
      intervalMs: 50,
    });
    relay.start();
    try {
      await eventually(
        async () => (await stack.db('event_outbox').where({ id: eventId }).first()).enqueued_at !== null,
        5_000,
      );
    } finally {
      await relay.stop();
    }
  });
});
