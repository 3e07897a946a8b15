import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { ConflictError, NotFoundError, ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import { jobOptionsFor } from '@raptorflow/events/bus/event-catalog';
import type { Envelope } from '@raptorflow/events/bus/envelope';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { DeadLetterService } from '@raptorflow/events/worker/dead-letter.service';
import { ROOT } from '../../scripts/lib/local-stack';
import { newUser, newWorkspace } from '../support/factories';
import type { TestWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';

const stack = openStack();
const workers: Worker[] = [];
afterAll(() => stack.close(workers));

/** The fault: while set, every test.event fails like a dependency that is down (with a password in it). */
let broken = true;
const handled: string[] = [];
const failedEvents = new FailedEventsService({
  bus: stack.bus,
  db: stack.db,
  audit: new AuditLogService({ db: stack.db }),
});
const queue = stack.bus.queue('system');
let ws: TestWorkspace;

beforeAll(async () => {
  ws = await newWorkspace(stack.db, await newUser());
  workers.push(
    createWorker(
      'system',
      {
        'test.event': async (payload, { envelope }) => {
          if (payload.message === 'conflict') throw new ConflictError('the domain refuses this event');
          if (broken) throw new Error('connect ECONNREFUSED postgres://app:hunter2@db:5432/x');
          handled.push(envelope.event_id);
        },
      },
      workerOptions(stack),
    ),
  );
});

/**
 * Like bus.publish (outbox row, then job id = event id), but with 3 attempts 20 ms apart instead of the
 * catalog's 5 with exponential backoff from 1 s, so the job dies in well under a second.
 */
async function publishFailing(
  payload: { message?: string; data?: Record<string, unknown> } = {},
  workspaceId: string = ws.id,
): Promise<Envelope> {
  const env = buildEnvelope('test.event', payload, { workspaceId, correlationId: `corr-${randomUUID()}` });
  await stack.db('event_outbox').insert({
    id: env.event_id,
    event_type: env.event_type,
    queue: 'system',
    workspace_id: workspaceId === ws.id ? workspaceId : null,
    envelope: JSON.stringify(env),
  });
  await queue.add('test.event', env, {
    ...jobOptionsFor('test.event'),
    attempts: 3,
    backoff: { type: 'fixed', delay: 20 },
    jobId: env.event_id,
  });
  return env;
}

const stateOf = (id: string) => queue.getJobState(id);
const auditRows = (eventId: string, action: string) =>
  stack
    .db('audit_logs')
    .where({ resource_type: 'event', resource_id: eventId, action })
    .orderBy('created_at');

async function counter(name: 'deadLettersTotal' | 'jobsTotal', labels: Record<string, string>) {
  const values = (await getMetrics()[name].get()).values;
  const hit = values.find((v) =>
    Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
  );
  return hit?.value ?? 0;
}

function runCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Same database, Redis and queue prefix as this test file: jest's worker set them in process.env.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'events.ts'), ...args],
      {
        cwd: ROOT,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('dead letters (real BullMQ, Redis and PostgreSQL)', () => {
  it('records a job that exhausts its attempts once, and replays it from the failed set after the fix', async () => {
    broken = true;
    const labels = { queue: 'system', event: 'test.event' };
    const deadBefore = await counter('deadLettersTotal', labels);
    const retriedBefore = await counter('jobsTotal', { ...labels, outcome: 'retried' });
    const env = await publishFailing({ message: 'm', data: { api_key: 'AIza-not-really', note: 'kept' } });

    await eventually(async () => (await stateOf(env.event_id)) === 'failed');
    const rows = await eventually(async () => {
      const r = await auditRows(env.event_id, 'event.dead_lettered');
      return r.length ? r : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      workspace_id: ws.id,
      actor_type: 'system',
      actor_id: 'system',
      event_id: env.event_id,
      resource_type: 'event',
      resource_id: env.event_id,
      correlation_id: env.correlation_id,
      metadata: {
        queue: 'system',
        event_type: 'test.event',
        attempts_made: 3,
        envelope: {
          event_id: env.event_id,
          workspace_id: ws.id,
          payload: { message: 'm', data: { api_key: '[redacted]', note: 'kept' } },
        },
      },
    });
    const reason = rows[0].metadata.failed_reason as string;
    expect(reason).toContain('ECONNREFUSED postgres://app:[redacted]@db');
    expect(JSON.stringify(rows[0])).not.toContain('hunter2');

    expect(await counter('deadLettersTotal', labels)).toBe(deadBefore + 1);
    expect(await counter('jobsTotal', { ...labels, outcome: 'retried' })).toBe(retriedBefore + 2);

    const listed = await failedEvents.listFailed({ limit: 10 });
    expect(listed).toContainEqual({
      event_id: env.event_id,
      event_type: 'test.event',
      queue: 'system',
      workspace_id: ws.id,
      attempts_made: 3,
      failed_reason: expect.stringContaining('[redacted]'),
      failed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    // A second notification of the same failure writes nothing.
    const job = (await queue.getJob(env.event_id))!;
    expect(await new DeadLetterService({ db: stack.db }).record('system', job)).toBe(false);
    expect(await auditRows(env.event_id, 'event.dead_lettered')).toHaveLength(1);

    broken = false;
    await expect(failedEvents.replay(env.event_id)).resolves.toEqual({
      event_id: env.event_id,
      replayed_from: 'failed_set',
    });
    await eventually(async () => (await stateOf(env.event_id)) === 'completed');
    expect(handled.filter((id) => id === env.event_id)).toHaveLength(1);
    expect((await queue.getJob(env.event_id))!.attemptsMade).toBe(1);
    const replayed = await auditRows(env.event_id, 'event.replayed');
    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatchObject({
      workspace_id: ws.id,
      actor_type: 'system',
      metadata: { event_id: env.event_id, replayed_from: 'failed_set', previous_attempts_made: 3 },
    });
    expect((await failedEvents.listFailed()).map((f) => f.event_id)).not.toContain(env.event_id);

    // A completed event is not a dead letter: replaying it is refused.
    await expect(failedEvents.replay(env.event_id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('replays from the outbox an event whose failed job was already trimmed from Redis', async () => {
    broken = true;
    const env = await publishFailing();
    await eventually(async () => (await stateOf(env.event_id)) === 'failed');
    await eventually(async () => (await auditRows(env.event_id, 'event.dead_lettered')).length === 1);
    await (await queue.getJob(env.event_id))!.remove();
    expect(await queue.getJob(env.event_id)).toBeUndefined();

    broken = false;
    await expect(failedEvents.replay(env.event_id)).resolves.toEqual({
      event_id: env.event_id,
      replayed_from: 'outbox',
    });
    await eventually(async () => (await stateOf(env.event_id)) === 'completed');
    expect(handled).toContain(env.event_id);
    expect(await auditRows(env.event_id, 'event.replayed')).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ replayed_from: 'outbox' }) }),
    ]);
  });

  it('answers not_found for an unknown event and validation_failed for a malformed id', async () => {
    await expect(failedEvents.replay(randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    await expect(failedEvents.replay('not-a-uuid')).rejects.toBeInstanceOf(ValidationFailedError);
  });

  it('dead-letters a final (domain) failure after one attempt, even for a workspace that does not exist', async () => {
    const labels = { queue: 'system', event: 'test.event', outcome: 'failed' };
    const before = await counter('jobsTotal', labels);
    const ghost = randomUUID();
    const env = await publishFailing({ message: 'conflict' }, ghost);
    await eventually(async () => (await stateOf(env.event_id)) === 'failed');
    const [row] = await eventually(async () => {
      const r = await auditRows(env.event_id, 'event.dead_lettered');
      return r.length ? r : undefined;
    });
    // The row survives the missing workspace: kept without the foreign key, the id in its metadata.
    expect(row).toMatchObject({
      workspace_id: null,
      metadata: {
        attempts_made: 1,
        workspace_id: ghost,
        failed_reason: 'conflict: the domain refuses this event',
      },
    });
    expect(await counter('jobsTotal', labels)).toBe(before + 1);
  });

  it('npm run events -- failed / replay work against the real queue', async () => {
    broken = true;
    const env = await publishFailing({ message: 'cli' });
    await eventually(async () => (await stateOf(env.event_id)) === 'failed');

    const table = await runCli('failed', '--limit', '50');
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^failed_at\s+event_id\s+queue\s+event_type\s+attempts_made\s+failed_reason$/);
    expect(lines.find((l) => l.includes(env.event_id))).toMatch(
      /system\s+test\.event\s+3\s+connect ECONNREFUSED/,
    );

    const json = await runCli('failed', '--json', '--queue', 'system');
    expect(JSON.parse(json.stdout)).toContainEqual(expect.objectContaining({ event_id: env.event_id }));

    broken = false;
    const replay = await runCli('replay', env.event_id);
    expect(replay).toMatchObject({ code: 0, stdout: `replayed ${env.event_id} from the failed set\n` });
    await eventually(async () => (await stateOf(env.event_id)) === 'completed');
    const [audit] = await auditRows(env.event_id, 'event.replayed');
    expect(audit).toMatchObject({ actor_type: 'system', actor_id: expect.stringMatching(/^cli:/) });

    const unknown = await runCli('replay', randomUUID());
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^not_found: /);
    expect((await runCli('bogus')).code).toBe(1);
  }, 60_000);
});
