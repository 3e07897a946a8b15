import { runWithContext } from '@raptorflow/core/context/request-context';
import { buildEnvelope, envelopeSchema } from './envelope';

const USER = '11111111-1111-4111-8111-111111111111';
const OTHER_USER = '22222222-2222-4222-8222-222222222222';
const WS = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const OTHER_WS = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const EVENT_ID = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const payload = { agent_run_id: EVENT_ID, agent_key: 'strategist' };

describe('buildEnvelope', () => {
  it('takes workspace, correlation and actor from the request context', () => {
    const env = runWithContext(
      { correlationId: 'req-42', userId: USER, workspaceId: WS, traceparent: '00-abc-def-01' },
      () => buildEnvelope('agent.run.requested', payload),
    );
    expect(env.event_type).toBe('agent.run.requested');
    expect(env.workspace_id).toBe(WS);
    expect(env.correlation_id).toBe('req-42');
    expect(env.actor_user_id).toBe(USER);
    expect(env.traceparent).toBe('00-abc-def-01');
    expect(env.payload).toEqual(payload);
    expect(env.event_id).toMatch(UUID);
    expect(envelopeSchema.safeParse(env).success).toBe(true);
  });

  it('lets overrides win over the context', () => {
    const env = runWithContext({ correlationId: 'req-42', userId: USER, workspaceId: WS }, () =>
      buildEnvelope('agent.run.requested', payload, {
        eventId: EVENT_ID,
        workspaceId: OTHER_WS,
        actorUserId: OTHER_USER,
        correlationId: 'job-7',
      }),
    );
    expect(env.event_id).toBe(EVENT_ID);
    expect(env.workspace_id).toBe(OTHER_WS);
    expect(env.actor_user_id).toBe(OTHER_USER);
    expect(env.correlation_id).toBe('job-7');
    expect(envelopeSchema.safeParse(env).success).toBe(true);
  });

  it('an explicit workspaceId: null wins over the context workspace', () => {
    const env = runWithContext({ correlationId: 'c', workspaceId: WS }, () =>
      buildEnvelope('test.event', {}, { workspaceId: null }),
    );
    expect(env.workspace_id).toBeNull();
    expect(envelopeSchema.safeParse(env).success).toBe(true);
  });

  it('outside any context: null workspace, fresh correlation id, no actor, still valid', () => {
    const env = buildEnvelope('test.event', { message: 'hi' });
    expect(env.workspace_id).toBeNull();
    expect(env.correlation_id).toMatch(UUID);
    expect(env).not.toHaveProperty('actor_user_id');
    expect(env).not.toHaveProperty('traceparent');
    expect(envelopeSchema.safeParse(env).success).toBe(true);
  });

  it('gives each envelope a new event id and an ISO timestamp of now', () => {
    const before = Date.now();
    const a = buildEnvelope('test.event', {});
    const b = buildEnvelope('test.event', {});
    const after = Date.now();
    expect(a.event_id).not.toBe(b.event_id);
    const t = Date.parse(a.timestamp);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    expect(a.timestamp).toBe(new Date(t).toISOString());
  });
});

describe('envelopeSchema', () => {
  const valid = () =>
    runWithContext({ correlationId: 'req-1', userId: USER, workspaceId: WS }, () =>
      buildEnvelope('test.event', { message: 'x' }),
    );

  it.each([
    ['event_id not a uuid', { event_id: 'nope' }],
    ['empty event_type', { event_type: '' }],
    ['workspace_id not a uuid', { workspace_id: 'ws-1' }],
    ['correlation_id too long', { correlation_id: 'x'.repeat(129) }],
    ['timestamp not ISO', { timestamp: 'yesterday' }],
    ['actor not a uuid', { actor_user_id: 'bob' }],
  ])('rejects %s', (_label, patch) => {
    expect(envelopeSchema.safeParse({ ...valid(), ...patch }).success).toBe(false);
  });

  it('rejects a missing correlation_id', () => {
    const { correlation_id: _dropped, ...rest } = valid();
    expect(envelopeSchema.safeParse(rest).success).toBe(false);
  });
});
