import {
  DEFAULT_JOB_OPTIONS,
  MAX_EVENT_PAYLOAD_BYTES,
  QUEUE_NAMES,
  jobOptionsFor,
} from '@raptorflow/events/bus/event-catalog';
import type { EventType } from '@raptorflow/events/bus/event-catalog';
import { newTeam } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/**
 * Redis keeps every job in memory, so the bus is no place to store data: a publish over 64 KiB of payload is
 * refused with 413 (nothing written, nothing queued), and completed jobs are not kept for long.
 */
const stack = openStack();
const gateway = useGateway(stack);

const payloadOf = (bytes: number) => ({ data: { blob: 'x'.repeat(bytes) } });

it('POST /v1/events: a 1 MB payload is 413 and leaves no outbox row or job; one under 64 KiB is accepted', async () => {
  const t = await newTeam(stack.db);
  const c = client(gateway.url(), t.owner.token);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const before = await stack.db('event_outbox').where({ workspace_id: t.ws.id }).count('* as n');

  const big = await c.post('/v1/events', { event_type: 'test.event', payload: payloadOf(1_000_000) }, h);
  expectError(big, 413, 'payload_too_large');
  expect(big.body.error.message).toMatch(/test\.event event payload is larger than 64 KiB/);
  expect(big.body.error.details).toEqual({ max_bytes: MAX_EVENT_PAYLOAD_BYTES, bytes: expect.any(Number) });
  const after = await stack.db('event_outbox').where({ workspace_id: t.ws.id }).count('* as n');
  expect(after[0]!.n).toBe(before[0]!.n);
  const counts = await stack.bus.queue('system').getJobCounts();
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);

  const ok = await c.post('/v1/events', { event_type: 'test.event', payload: payloadOf(60_000) }, h);
  expect(ok.status).toBe(202);
});

it('keeps completed and failed jobs bounded by age and count, sized for memory at the payload cap', () => {
  const done = DEFAULT_JOB_OPTIONS.removeOnComplete;
  expect(done.age).toBeLessThanOrEqual(3600);
  // Worst case per queue: every kept completed job at the payload cap.
  expect(done.count * MAX_EVENT_PAYLOAD_BYTES).toBeLessThanOrEqual(64 * 1024 * 1024);
  for (const type of ['test.event', 'workspace.created', 'cost.recorded'] as EventType[])
    expect(jobOptionsFor(type).removeOnComplete).toEqual(done);
  expect(
    QUEUE_NAMES.length * DEFAULT_JOB_OPTIONS.removeOnFail.count * MAX_EVENT_PAYLOAD_BYTES,
  ).toBeLessThanOrEqual(2 * 1024 * 1024 * 1024);
});
