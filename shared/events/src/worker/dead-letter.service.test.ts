import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { buildLogger } from '@raptorflow/core/logging/logger';
import { DEAD_LETTER_ACTION, DeadLetterService, redactSecrets } from './dead-letter.service';

const silent = buildLogger({ logLevel: 'silent', logFormat: 'json', environment: 'test' });

/** An AuditLogService stand-in that keeps what it was asked to write. */
function fakeAudit(behaviour: (entry: AuditEntry) => boolean | Error = () => true) {
  const entries: AuditEntry[] = [];
  const audit = {
    record: async (entry: AuditEntry) => {
      entries.push(entry);
      const out = behaviour(entry);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as AuditLogService;
  return { audit, entries };
}

function envelope(overrides: Record<string, unknown> = {}) {
  return {
    event_id: randomUUID(),
    event_type: 'test.event',
    workspace_id: randomUUID(),
    correlation_id: 'corr-1',
    payload: { data: { password: 'p', nested: { accessToken: 'eyJ...', input_tokens: 12 } } },
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

describe('redactSecrets', () => {
  it('blanks secret-looking keys at any depth and scrubs strings, keeping look-alikes', () => {
    expect(
      redactSecrets({
        a: [{ api_key: 'x', apiKey: 'y', agent_key: 'seer' }],
        b: { Authorization: 'Bearer abc', note: 'redis://u:pw@host', input_tokens: 3 },
      }),
    ).toEqual({
      a: [{ api_key: '[redacted]', apiKey: '[redacted]', agent_key: 'seer' }],
      b: { Authorization: '[redacted]', note: 'redis://u:[redacted]@host', input_tokens: 3 },
    });
  });
});

describe('DeadLetterService.record', () => {
  it('writes one system audit row keyed by the event id, with the scrubbed reason and envelope', async () => {
    const { audit, entries } = fakeAudit();
    const env = envelope();
    const wrote = await new DeadLetterService({ audit, logger: silent }).record('system', {
      id: env.event_id,
      name: 'test.event',
      data: env,
      attemptsMade: 5,
      failedReason: 'Bearer sk-secret failed',
    });
    expect(wrote).toBe(true);
    expect(entries).toEqual([
      {
        action: DEAD_LETTER_ACTION,
        workspaceId: env.workspace_id,
        actorType: 'system',
        actorId: 'system',
        resourceType: 'event',
        resourceId: env.event_id,
        eventId: env.event_id,
        correlationId: 'corr-1',
        metadata: {
          queue: 'system',
          event_type: 'test.event',
          attempts_made: 5,
          failed_reason: 'Bearer [redacted] failed',
          envelope: {
            ...env,
            payload: {
              data: { password: '[redacted]', nested: { accessToken: '[redacted]', input_tokens: 12 } },
            },
          },
        },
      },
    ]);
  });

  it('keeps the row without the workspace link when the workspace is gone', async () => {
    const missing = Object.assign(new Error('violates foreign key constraint'), { code: '23503' });
    const { audit, entries } = fakeAudit((e) => (e.workspaceId ? missing : true));
    const env = envelope();
    const job = { id: env.event_id, name: 'test.event', data: env, attemptsMade: 1 };
    await expect(new DeadLetterService({ audit, logger: silent }).record('system', job)).resolves.toBe(true);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ workspaceId: null, metadata: { workspace_id: env.workspace_id } });
  });

  it('still records a job whose envelope is broken, without an event id when its id is not one', async () => {
    const { audit, entries } = fakeAudit();
    const svc = new DeadLetterService({ audit, logger: silent });
    await svc.record('cost', { id: 'custom-id', name: 'cost.recorded', data: { nope: 1 }, attemptsMade: 1 });
    expect(entries[0]).toMatchObject({ workspaceId: null, resourceId: 'custom-id', actorId: 'cost' });
    expect(entries[0]).not.toHaveProperty('eventId');
  });

  it('passes a database failure on (the runtime logs it) after logging the dead letter', async () => {
    const { audit } = fakeAudit(() => new Error('database down'));
    const env = envelope({ workspace_id: null });
    const job = { id: env.event_id, name: 'test.event', data: env, attemptsMade: 1 };
    await expect(new DeadLetterService({ audit, logger: silent }).record('system', job)).rejects.toThrow(
      'database down',
    );
  });
});
