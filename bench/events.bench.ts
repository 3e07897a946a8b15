// bench/events: workspace.created → seven Lords seeded (outbox row, BullMQ job, validation, context, seeding
// transaction, audit row) against raw BullMQ add → no-op processor on the same Redis, in the same run.
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Knex } from 'knex';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { seederService } from '../test/support/seeder-wiring';
import { createSeederWorkers } from '../services/seeder/src/seeder.worker';
import { DeadLetterService } from '@raptorflow/events/worker/dead-letter.service';
import { workerOptions } from '../test/support/workers';

export async function runEventsBench(db: Knex, events = 300): Promise<string[]> {
  const settings = getSettings();
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const userId = randomUUID();
  const deadLetters = new DeadLetterService({ db });
  const seeders = createSeederWorkers(
    seederService(db),
    workerOptions({ prefix: settings.queuePrefix, deadLetters }, 'seeder', { concurrency: 8 }),
  );
  const rawQueue = new Queue('bench-raw', {
    connection: createRedis('producer'),
    prefix: settings.queuePrefix,
  });
  let done = 0;
  const rawWorker = new Worker('bench-raw', async () => void done++, {
    connection: createRedis('worker'),
    prefix: settings.queuePrefix,
    concurrency: 8,
  });
  try {
    const wsIds: string[] = [];
    for (let i = 0; i < events; i++) {
      const [w] = await db('workspaces')
        .insert({ name: `b${i}`, created_by: userId })
        .returning('id');
      wsIds.push(w.id);
    }
    let t = performance.now();
    await Promise.all(
      wsIds.map((id) =>
        bus.publish(
          'workspace.created',
          { workspace_id: id, name: 'b', created_by: userId },
          { workspaceId: id },
        ),
      ),
    );
    for (;;) {
      const [row] = await db('agents').whereIn('workspace_id', wsIds).count<{ c: string }[]>('* as c');
      if (Number(row?.c) >= events * 7) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ours = (performance.now() - t) / 1000;
    t = performance.now();
    await Promise.all(Array.from({ length: events }, (_, i) => rawQueue.add('x', { i })));
    while (done < events) await new Promise((r) => setTimeout(r, 5));
    const raw = (performance.now() - t) / 1000;
    return [
      `bench/events (${events} events, worker concurrency 8)`,
      `  workspace.created → 7 Lords seeded: ${(events / ours).toFixed(0)} events/s (${ours.toFixed(2)} s)`,
      `  baseline raw BullMQ add → no-op:    ${(events / raw).toFixed(0)} jobs/s (${raw.toFixed(2)} s)`,
    ];
  } finally {
    await Promise.all([...seeders.map((w) => w.close()), rawWorker.close()]);
    await deadLetters.close();
    await rawQueue.obliterate({ force: true }).catch(() => undefined);
    await rawQueue.close();
    for (const q of ['workspace', 'system'] as const)
      await bus
        .queue(q)
        .obliterate({ force: true })
        .catch(() => undefined);
    await bus.close();
  }
}
