import { randomUUID } from 'node:crypto';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { GroupCommit } from '@raptorflow/core/batching/group-commit';
import { writeEventAuditRows } from '../../services/seeder/src/event-audit.writer';
import type { EventAuditRow } from '../../services/seeder/src/event-audit.writer';
import { seederService } from '../support/seeder-wiring';
import { newUser, newWorkspace } from '../support/factories';
import { openStack } from '../support/stack';

const stack = openStack();
afterAll(() => stack.close());

function row(eventId: string, workspaceId: string | null = null): EventAuditRow {
  return {
    workspace_id: workspaceId,
    actor_type: 'system',
    actor_id: null,
    action: 'test.event',
    resource_type: 'event',
    resource_id: eventId,
    tool_name: null,
    input: '{}',
    output: null,
    metadata: '{}',
    agent_run_id: null,
    event_id: eventId,
    correlation_id: 'corr-batch',
  };
}

/** The seeder's group commit of event audit rows, as SeederService builds it (batches of `maxBatch`). */
function auditBatcher(maxBatch = 100) {
  const repo = new AuditLogRepository(stack.db);
  const batcher = new GroupCommit<EventAuditRow, boolean>({
    run: (rows) => writeEventAuditRows(repo, rows),
    maxBatch,
    maxInFlight: 4,
  });
  return { record: (row: EventAuditRow) => batcher.submit(row) };
}

const rowsOf = (ids: string[]) => stack.db('audit_logs').whereIn('event_id', ids).select('event_id');

describe('seeder audit rows written by group commit (real PostgreSQL)', () => {
  it('writes every row of a concurrent burst exactly once, each caller told its own outcome', async () => {
    const batcher = auditBatcher(16);
    const ids = Array.from({ length: 120 }, () => randomUUID());
    const results = await Promise.all(ids.map((id) => batcher.record(row(id))));
    expect(results.every((r) => r === true)).toBe(true);
    const rows = await rowsOf(ids);
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(120);
  });

  it('counts a redelivered event once, whether its copies share a batch or not', async () => {
    const batcher = auditBatcher();
    const id = randomUUID();
    // Five copies in one turn share one INSERT.
    const first = await Promise.all(Array.from({ length: 5 }, () => batcher.record(row(id))));
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(await batcher.record(row(id))).toBe(false);
    expect(await rowsOf([id])).toHaveLength(1);
    // Copies a turn apart: two INSERTs in flight at once race on the unique key; one of them writes.
    const other = randomUUID();
    const a = batcher.record(row(other));
    await new Promise((r) => setImmediate(r));
    const b = batcher.record(row(other));
    expect((await Promise.all([a, b])).filter(Boolean)).toHaveLength(1);
    expect(await rowsOf([other])).toHaveLength(1);
  });

  it('fails only the row that cannot be written; its batch-mates are committed', async () => {
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    const batcher = auditBatcher();
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const settled = await Promise.allSettled([
      batcher.record(row(ids[0]!, ws.id)),
      batcher.record(row(ids[1]!, ws.id)),
      batcher.record(row(ids[2]!, randomUUID())), // no such workspace: foreign key violation
      batcher.record(row(ids[3]!, ws.id)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await rowsOf(ids)).map((r) => r.event_id).sort()).toEqual([ids[0], ids[1], ids[3]].sort());
  });

  it('recordTestEvent from many concurrent jobs: one row per event, redelivery reported as not recorded', async () => {
    const service = seederService(stack.db, stack.redis);
    const envs = Array.from({ length: 40 }, (_, i) =>
      buildEnvelope('test.event', { message: `m${i}` }, { workspaceId: null }),
    );
    const firsts = await Promise.all(envs.map((e) => service.recordTestEvent(e, e.payload)));
    const again = await Promise.all(envs.map((e) => service.recordTestEvent(e, e.payload)));
    expect(firsts.every((r) => r.recorded)).toBe(true);
    expect(again.some((r) => r.recorded)).toBe(false);
    const rows = await stack.db('audit_logs').whereIn(
      'event_id',
      envs.map((e) => e.event_id),
    );
    expect(rows).toHaveLength(40);
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    for (const e of envs)
      expect(byId.get(e.event_id)).toMatchObject({
        action: 'test.event',
        actor_type: 'system',
        resource_id: e.event_id,
        correlation_id: e.correlation_id,
        input: e.payload,
      });
  });
});
