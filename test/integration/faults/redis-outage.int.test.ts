import { newUser } from '../../support/factories';
import type { TestUser } from '../../support/factories';
import { eventually } from '../../support/http';
import { ServiceGroup, outputTail, serviceEnv } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { TestRedisServer } from '../../support/redis-server';
import { perfectSeeding, seedingReport } from '../../support/seeding';
import { openStack } from '../../support/stack';

/**
 * A Redis of the test's own, stopped for 5 s while 100 workspaces are created through the API (gateway and
 * seeder as real processes pointed at it): every request succeeds or fails cleanly, and once Redis is back
 * every workspace that exists has exactly seven Lords. Events committed while Redis was unreachable wait in
 * the PostgreSQL outbox until the relay (running in the gateway and worker processes) re-sends them.
 *
 * The Redis keeps an AOF (see TestRedisServer): what it acknowledged before the outage survives it, as with a
 * production Redis; the outage under test is unreachability, not data loss.
 */
const TOTAL = 100;
const BEFORE = 20; // requests answered before Redis stops
const AFTER = 20; // requests sent once Redis answers again; the 60 in between are spread over the outage
const OUTAGE_MS = 5_000;
const CONCURRENCY = 10;
const REQUEST_TIMEOUT_MS = 10_000;

const stack = openStack(); // this worker's database; the services get the test's own Redis
const services = new ServiceGroup(stack.db);
let redis: TestRedisServer;
let gateway: RunningService;
let seeder: RunningService;
let user: TestUser;

beforeAll(async () => {
  redis = await TestRedisServer.start();
  // Short stalled-job settings: a Redis restart can leave a job "active" that no worker knows about (a
  // moveToFinished that fetched the next job ran, but its reply was lost with the connection); only the
  // stalled check hands it back, after up to lockDuration + 2 × stalledInterval (~60 s with BullMQ defaults).
  const env = serviceEnv({
    REDIS_URL: redis.url,
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '5000',
    // One user creates every workspace of this test, more than the default cap of owned workspaces.
    MAX_WORKSPACES_PER_USER: '1000',
  });
  [gateway, seeder] = await Promise.all([services.start('gateway', env), services.start('seeder', env)]);
  user = await newUser();
}, 90_000);

afterAll(async () => {
  await services.stopAll();
  await redis?.destroy();
  await stack.close();
}, 60_000);

type Phase = 'before' | 'outage' | 'after';
interface Outcome {
  i: number;
  phase: Phase;
  ms: number;
  status?: number;
  body?: any;
  error?: string;
}

async function createWorkspace(i: number, phase: Phase): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(`${gateway.url}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `outage-${i}` }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* stays text: the shape check below reports it */
    }
    return { i, phase, ms: Date.now() - started, status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { i, phase, ms: Date.now() - started, error: `${e.name}: ${e.message} ${e.cause?.code ?? ''}` };
  }
}

/** Requests `first..first+count-1` over `lanes` lanes; request k of them not before `notBefore(k)`. */
async function requests(first: number, count: number, phase: Phase, notBefore?: (k: number) => number) {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const k = next++;
        const wait = (notBefore?.(k) ?? 0) - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        out.push(await createWorkspace(first + k, phase));
      }
    }),
  );
  return out;
}

function isCleanAnswer(o: Outcome): boolean {
  if (o.error || o.ms >= REQUEST_TIMEOUT_MS || o.status === undefined) return false;
  if (o.status === 201)
    return (
      typeof o.body?.id === 'string' &&
      o.body.name === `outage-${o.i}` &&
      o.body.role === 'owner' &&
      typeof o.body.created_at === 'string'
    );
  return (
    o.status >= 400 &&
    typeof o.body?.error?.code === 'string' &&
    typeof o.body?.error?.message === 'string' &&
    typeof o.body?.correlation_id === 'string'
  );
}

it('creates workspaces through a 5 s Redis outage: clean answers, and seven Lords for every workspace once Redis is back', async () => {
  const before = await requests(0, BEFORE, 'before');

  await redis.down();
  const outageStarted = Date.now();
  const duringOutage = requests(BEFORE, TOTAL - BEFORE - AFTER, 'outage', (k) => outageStarted + k * 80);
  await new Promise((r) => setTimeout(r, outageStarted + OUTAGE_MS - Date.now()));
  await redis.up();
  const after = await requests(TOTAL - AFTER, AFTER, 'after');
  const outcomes = [...before, ...(await duringOutage), ...after];

  // Every request answered, within the timeout, with a 201 or the error shape; with Redis up, a 201.
  expect(outcomes).toHaveLength(TOTAL);
  const unclean = outcomes.filter((o) => !isCleanAnswer(o));
  expect(unclean).toEqual([]);
  expect(before.filter((o) => o.status !== 201)).toEqual([]);

  // Every 201 is a workspace in the database, and each workspace has exactly one workspace.created event.
  const created = new Set(outcomes.filter((o) => o.status === 201).map((o) => o.body.id as string));
  const existing: Array<{ id: string }> = await stack
    .db('workspaces')
    .where({ created_by: user.id })
    .select('id');
  const ids = existing.map((w) => w.id);
  expect(ids.length).toBeGreaterThanOrEqual(created.size);
  for (const id of created) expect(ids).toContain(id);
  const events: Array<{ id: string; workspace_id: string }> = await stack
    .db('event_outbox')
    .where({ event_type: 'workspace.created' })
    .whereIn('workspace_id', ids)
    .select('id', 'workspace_id');
  expect(events.map((e) => e.workspace_id).sort()).toEqual([...ids].sort());

  // Once Redis is back, every workspace gets its seven Lords (relay re-sends what the outage kept back).
  const eventIds = events.map((e) => e.id);
  await eventually(
    async () => {
      const r = await seedingReport(stack.db, user.id, eventIds);
      return r.notSeven.length === 0 && r.seededAudits === ids.length;
    },
    60_000,
    250,
  ).catch(async (err: Error) => {
    const pending = await stack
      .db('event_outbox')
      .whereIn('id', eventIds)
      .whereNull('enqueued_at')
      .count<{ n: string }[]>('* as n');
    const r = await seedingReport(stack.db, user.id, eventIds);
    throw new Error(
      `${err.message}: ${r.notSeven.length} of ${ids.length} workspaces without their seven Lords; ` +
        `${pending[0]!.n} workspace.created outbox rows never enqueued (the relay re-sends those)\n` +
        `gateway:\n${outputTail(gateway.child, 15)}\nseeder:\n${outputTail(seeder.child, 15)}`,
    );
  });
  expect(await seedingReport(stack.db, user.id, eventIds)).toEqual(perfectSeeding(ids.length));
}, 150_000);
