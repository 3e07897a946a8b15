import {
  DEFAULT_JOB_OPTIONS,
  EVENT_CATALOG,
  EVENT_TYPES,
  QUEUE_NAMES,
  eventLabel,
  eventsOfQueue,
  isEventType,
  jobOptionsFor,
} from './event-catalog';
import type { EventType } from './event-catalog';

const ID_1 = '11111111-1111-4111-8111-111111111111';
const ID_2 = '22222222-2222-4222-8222-222222222222';

describe('QUEUE_NAMES', () => {
  it('is exactly the four domain queues, in order', () => {
    expect([...QUEUE_NAMES]).toEqual(['workspace', 'agent', 'cost', 'system', 'notify']);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(QUEUE_NAMES)).toBe(true);
    expect(() => (QUEUE_NAMES as unknown as string[]).push('extra')).toThrow(TypeError);
    expect(QUEUE_NAMES).toHaveLength(5);
  });
});

describe('catalog coverage', () => {
  it.each([...QUEUE_NAMES])('queue %s has at least one event', (queue) => {
    expect(eventsOfQueue(queue).length).toBeGreaterThan(0);
  });

  it('every event sits on a known queue', () => {
    for (const type of EVENT_TYPES) expect(QUEUE_NAMES).toContain(EVENT_CATALOG[type].queue);
  });

  it('maps events to queues as the spec table says', () => {
    expect(eventsOfQueue('workspace')).toEqual(['workspace.created']);
    expect(eventsOfQueue('agent')).toEqual(['agent.run.requested', 'schedule.tick']);
    expect(eventsOfQueue('cost')).toEqual(['cost.recorded', 'ledger.reconcile.requested']);
    expect(eventsOfQueue('system')).toEqual(['test.event']);
    expect(eventsOfQueue('notify')).toEqual(['budget.alert.fired']);
  });

  it('eventsOfQueue partitions EVENT_TYPES', () => {
    const all = QUEUE_NAMES.flatMap((q) => eventsOfQueue(q) as string[]);
    expect(all.sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('isEventType knows catalog names only (not prototype keys)', () => {
    expect(isEventType('workspace.created')).toBe(true);
    expect(isEventType('workspace.deleted')).toBe(false);
    expect(isEventType('toString')).toBe(false);
    expect(isEventType('__proto__')).toBe(false);
  });
});

describe('jobOptionsFor', () => {
  it('gives the defaults to an event without overrides', () => {
    const opts = jobOptionsFor('workspace.created');
    expect(opts.attempts).toBe(5);
    expect(opts.backoff).toEqual({ type: 'exponential', delay: 1_000, jitter: 0.5 });
    expect(opts).toEqual({ ...DEFAULT_JOB_OPTIONS });
  });

  it.each([...EVENT_TYPES])('%s: retries with exponential backoff + jitter and bounded retention', (type) => {
    const opts = jobOptionsFor(type);
    expect(opts.attempts).toBeGreaterThan(1);
    expect(opts.backoff).toMatchObject({ type: 'exponential' });
    const backoff = opts.backoff as { delay: number; jitter: number };
    expect(backoff.delay).toBeGreaterThan(0);
    expect(backoff.jitter).toBeGreaterThan(0);
    expect(backoff.jitter).toBeLessThanOrEqual(1);
    // bounded: an object with a positive count (true would keep nothing, false/undefined everything)
    for (const keep of [opts.removeOnComplete, opts.removeOnFail]) {
      expect(typeof keep).toBe('object');
      expect((keep as { count: number }).count).toBeGreaterThan(0);
      expect((keep as { age: number }).age).toBeGreaterThan(0);
    }
  });

  it('lets an event override attempts and backoff while keeping the other defaults', () => {
    const opts = jobOptionsFor('agent.run.requested');
    expect(opts.attempts).toBe(3);
    expect(opts.backoff).toEqual({ type: 'exponential', delay: 5_000, jitter: 0.5 });
    expect(opts.removeOnComplete).toEqual(DEFAULT_JOB_OPTIONS.removeOnComplete);
    expect(opts.removeOnFail).toEqual(DEFAULT_JOB_OPTIONS.removeOnFail);
  });

  it('does not let an override leak into the defaults', () => {
    jobOptionsFor('agent.run.requested');
    expect(DEFAULT_JOB_OPTIONS.attempts).toBe(5);
    expect(jobOptionsFor('cost.recorded').attempts).toBe(5);
  });

  it('returns a fresh object each time', () => {
    const a = jobOptionsFor('cost.recorded');
    a.attempts = 99;
    expect(jobOptionsFor('cost.recorded').attempts).toBe(5);
  });
});

describe('event schemas', () => {
  const good: Record<EventType, unknown> = {
    'workspace.created': { workspace_id: ID_1, name: 'Acme', created_by: ID_2 },
    'agent.run.requested': { agent_run_id: ID_1, agent_key: 'strategist' },
    'schedule.tick': { schedule_id: ID_1 },
    'cost.recorded': { cost_log_id: ID_1, model: 'claude-sonnet', cost_usd: '0.004200' },
    'ledger.reconcile.requested': { month: '2026-11' },
    'budget.alert.fired': {
      alert_id: ID_1,
      month: '2026-11',
      threshold_percent: 80,
      spent_usd: '40.5',
      budget_usd: '50',
    },
    'test.event': { message: 'hello', data: { n: 1 } },
  };
  const bad: Record<EventType, unknown> = {
    'workspace.created': { workspace_id: 'not-a-uuid', name: 'Acme', created_by: ID_2 },
    'agent.run.requested': { agent_run_id: ID_1, agent_key: '' },
    'schedule.tick': { schedule_id: 'not-a-uuid' },
    'cost.recorded': { cost_log_id: ID_1, model: 'claude-sonnet', cost_usd: '-1' },
    'ledger.reconcile.requested': { month: '2026-13' },
    'budget.alert.fired': {
      alert_id: ID_1,
      month: '2026-11',
      threshold_percent: 0,
      spent_usd: '1',
      budget_usd: '2',
    },
    'test.event': { message: 'x'.repeat(1_001) },
  };

  it('has a fixture for every event', () => {
    expect(Object.keys(good).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each([...EVENT_TYPES])('%s accepts a good payload', (type) => {
    expect(EVENT_CATALOG[type].schema.safeParse(good[type]).success).toBe(true);
  });

  it.each([...EVENT_TYPES])('%s rejects a bad payload', (type) => {
    expect(EVENT_CATALOG[type].schema.safeParse(bad[type]).success).toBe(false);
  });

  it('rejects a number where the cost is a decimal string (no float money on the bus)', () => {
    expect(
      EVENT_CATALOG['cost.recorded'].schema.safeParse({ cost_log_id: ID_1, model: 'm', cost_usd: 0.5 })
        .success,
    ).toBe(false);
  });

  it('rejects a missing field', () => {
    expect(
      EVENT_CATALOG['workspace.created'].schema.safeParse({ workspace_id: ID_1, name: 'Acme' }).success,
    ).toBe(false);
  });
});

describe('eventLabel', () => {
  it('bounds the metrics label to the catalog', () => {
    expect(eventLabel('test.event')).toBe('test.event');
    expect(eventLabel('attacker.chosen.name')).toBe('unknown');
    expect(eventLabel(undefined)).toBe('unknown');
  });
});
