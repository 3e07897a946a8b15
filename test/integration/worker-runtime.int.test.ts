import { randomUUID } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { Worker } from 'bullmq';
import { ConflictError } from '@raptorflow/core/errors/app-error';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import { getContext } from '@raptorflow/core/context/request-context';
import { jobOptionsFor } from '@raptorflow/events/bus/event-catalog';
import type { RequestContext } from '@raptorflow/core/context/request-context';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';

const stack = openStack();
const workers: Worker[] = [];
afterAll(() => stack.close(workers));

describe('createWorker (real BullMQ on Redis)', () => {
  it('refuses to start when an event of its queue has no handler', () => {
    expect(() => createWorker('workspace', {} as never, workerOptions(stack))).toThrow(
      /no handler for workspace\.created/,
    );
  });

  it('restores the publisher context around the handler and re-validates the payload', async () => {
    const seen: Array<{ ctx: RequestContext | undefined; payload: unknown }> = [];
    let behaviour: 'ok' | 'conflict' | 'flaky' = 'ok';
    let flakyCalls = 0;
    workers.push(
      createWorker(
        'system',
        {
          'test.event': async (payload) => {
            seen.push({ ctx: { ...getContext()! }, payload });
            if (behaviour === 'conflict') throw new ConflictError('domain says no');
            if (behaviour === 'flaky' && ++flakyCalls < 3) throw new Error('ECONNRESET (transient)');
            return 'done';
          },
        },
        workerOptions(stack),
      ),
    );
    const queue = stack.bus.queue('system');
    const workspaceId = randomUUID();
    const userId = randomUUID();

    // 1. A good event: context comes back from the envelope.
    const good = buildEnvelope(
      'test.event',
      { message: 'm' },
      { workspaceId, actorUserId: userId, correlationId: 'corr-42' },
    );
    await queue.add('test.event', good, { jobId: good.event_id });
    await eventually(async () => (await queue.getJobState(good.event_id)) === 'completed');
    expect(seen[0]!.ctx).toMatchObject({
      correlationId: 'corr-42',
      workspaceId,
      userId,
      jobId: good.event_id,
    });

    // 2. A payload that breaks the schema fails for good after one attempt, never reaching the handler.
    const bad = { ...buildEnvelope('test.event', { message: 'm' }), payload: { message: 42 } };
    await queue.add('test.event', bad, { ...jobOptionsFor('test.event'), jobId: bad.event_id });
    await eventually(async () => (await queue.getJobState(bad.event_id)) === 'failed');
    const badJob = await queue.getJob(bad.event_id);
    expect(badJob!.attemptsMade).toBe(1);
    expect(badJob!.failedReason).toMatch(/invalid test\.event payload/);
    expect(seen).toHaveLength(1);

    // 3. An AppError is final too.
    behaviour = 'conflict';
    const conflict = buildEnvelope('test.event', {});
    await queue.add('test.event', conflict, { ...jobOptionsFor('test.event'), jobId: conflict.event_id });
    await eventually(async () => (await queue.getJobState(conflict.event_id)) === 'failed');
    expect((await queue.getJob(conflict.event_id))!.attemptsMade).toBe(1);
    expect((await queue.getJob(conflict.event_id))!.failedReason).toBe('conflict: domain says no');

    // 4. An infrastructure error is retried with backoff until it succeeds.
    behaviour = 'flaky';
    const flaky = buildEnvelope('test.event', {});
    await queue.add('test.event', flaky, {
      attempts: 5,
      backoff: { type: 'fixed', delay: 50 },
      jobId: flaky.event_id,
    });
    await eventually(async () => (await queue.getJobState(flaky.event_id)) === 'completed', 10_000);
    expect(flakyCalls).toBe(3);
    expect(UnrecoverableError).toBeDefined();
  });

  it('fails an event routed to the wrong queue without running anything', async () => {
    const queue = stack.bus.queue('cost');
    const calls: unknown[] = [];
    workers.push(
      createWorker(
        'cost',
        {
          'cost.recorded': async (p) => calls.push(p),
          'ledger.reconcile.requested': async (p) => calls.push(p),
        },
        workerOptions(stack),
      ),
    );
    const env = buildEnvelope('test.event', {});
    await queue.add('test.event', env, { jobId: env.event_id });
    await eventually(async () => (await queue.getJobState(env.event_id)) === 'failed');
    expect((await queue.getJob(env.event_id))!.failedReason).toMatch(/does not belong on queue "cost"/);
    expect(calls).toHaveLength(0);
  });
});
