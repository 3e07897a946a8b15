import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { EVENT_CATALOG } from '@raptorflow/events/bus/event-catalog';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import type { AnyEndpoint } from '../../services/gateway/src/http/endpoint';
import { WORKSPACE_ROLES } from '../../services/gateway/src/http/endpoint';
import { insertRun } from './agent-runs';
import { newUser, newWorkspace } from './factories';
import type { TestUser, TestWorkspace } from './factories';
import type { FuzzTarget } from './fuzz-target';
import { client } from './http';
import { routeKey } from './gateway-routes';
import type { TestStack } from './stack';
import { validArbitrary } from './zod-arbitrary';
import type { Hints } from './zod-arbitrary';

/**
 * What the schema-driven fuzz needs beyond the schemas: real ids for path parameters (pools of members, queued
 * runs, memory items and replayable outbox events, refilled by the fuzz's own creations and emptied by its
 * deletions), who calls each route, and domain hints where a schema-valid value would still be refused by
 * design (an agent that is not a Lord, a model that is not priced, an event type outside the catalog).
 */
export interface FuzzWorld extends FuzzTarget {
  stack: TestStack;
  /** The owner's second workspace: budgets are set there, so a budget of 0 never starves the model calls. */
  budgetWs: TestWorkspace;
  pools: {
    members: string[];
    queuedRuns: string[];
    /** Runs paused at an approval gate (with their pending approval): each takes one decision. */
    awaitingRuns: string[];
    memory: string[];
    outbox: string[];
    schedules: string[];
  };
}

export const BASIC_ADMIN = `Basic ${Buffer.from('admin:raptorflow').toString('base64')}`;
const POOL = 30;

export async function seedWorld(target: FuzzTarget, stack: TestStack): Promise<FuzzWorld> {
  const { db } = stack;
  const budgetWs = await newWorkspace(db, target.owner);
  const members = Array.from({ length: POOL }, () => randomUUID());
  await db('workspace_members').insert(
    members.map((user_id) => ({ workspace_id: target.ws.id, user_id, role: 'member' })),
  );
  const queuedRuns: string[] = [];
  for (let i = 0; i < POOL; i++) queuedRuns.push((await insertRun(db, target.ws.id, 'cognition')).id);
  const awaitingRuns: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const run = await insertRun(db, target.ws.id, 'arbiter', {
      status: 'awaiting_approval',
      input: JSON.stringify({ content: `seed ${i}` }),
      started_at: new Date(),
    });
    await db('agent_run_approvals').insert({
      run_id: run.id,
      workspace_id: target.ws.id,
      gate: 'approval',
      request: JSON.stringify({ gate: 'approval', reason: 'required', content: `seed ${i}`, violations: [] }),
      expires_at: new Date(Date.now() + 3_600_000),
    });
    awaitingRuns.push(run.id);
  }
  const items = Array.from({ length: POOL }, (_, i) => ({
    kind: 'fact',
    subject: `seed-${i}`,
    content: `seed ${i}`,
  }));
  const written = await client(target.url, target.owner.token).post(
    '/v1/memory',
    { items },
    { headers: { 'x-workspace-id': target.ws.id } },
  );
  if (written.status !== 201)
    throw new Error(`seeding memory: ${written.status} ${JSON.stringify(written.body)}`);
  const memory = (written.body.data as Array<{ id: string }>).map((i) => i.id);
  // Outbox rows with no job behind them: a replay re-sends each once (202), then finds the job (409).
  const outbox: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const env = buildEnvelope('test.event', { message: `seed ${i}` }, { workspaceId: target.ws.id });
    await db('event_outbox').insert({
      id: env.event_id,
      event_type: env.event_type,
      queue: 'system',
      workspace_id: target.ws.id,
      envelope: JSON.stringify(env),
    });
    outbox.push(env.event_id);
  }
  // Research schedules (the Seer's), paused: no job scheduler behind them until a PATCH un-pauses one.
  const schedules = (
    await db('schedules')
      .insert(
        Array.from({ length: POOL }, () => ({
          workspace_id: target.ws.id,
          agent_key: 'seer',
          input: JSON.stringify({ topic: 'weekly trends', depth: 'quick' }),
          cron: '0 9 * * 1',
          timezone: 'Europe/Berlin',
          paused: true,
          created_by: target.owner.id,
        })),
      )
      .returning<Array<{ id: string }>>('id')
  ).map((r) => r.id);
  return {
    ...target,
    stack,
    budgetWs,
    pools: { members, queuedRuns, awaitingRuns, memory, outbox, schedules },
  };
}

export interface RouteCase {
  endpoint: AnyEndpoint;
  key: string;
  write: boolean;
  hints: { body?: Hints; query?: Hints };
  /** Valid path parameters, `pick` choosing among a pool; undefined when the pool is empty. */
  params: (pick: number) => Record<string, string> | undefined;
  headers: () => Promise<Record<string, string>>;
  /** Keeps the pools true to the database after a 2xx. */
  after: (status: number, params: Record<string, string>, body: any, answer: any) => void;
}

const lordRun = fc.constantFrom(...COUNCIL_OF_LORDS).chain((lord) =>
  fc.record(
    {
      agent: fc.constant(lord.key),
      input: validArbitrary(FLOW_INPUT_SCHEMAS[lord.default_flow], 'body.input'),
      model: fc.constantFrom('fast', 'standard', 'heavy'),
    },
    { requiredKeys: ['agent', 'input'] },
  ),
);
// Crons that fire rarely (no runner consumes the fuzz's ticks), in zones the runtime knows.
const rareCron = fc.constantFrom('0 9 * * 1', '30 8 1 * *', '0 0 1 1 *', '15 10 * * 1-5', '0 6 * * 0');
const zone = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo');
const lordSchedule = fc
  .tuple(
    lordRun,
    fc.record({ cron: rareCron, timezone: zone, paused: fc.boolean() }, { requiredKeys: ['cron'] }),
  )
  .map(([run, timing]) => ({ ...run, ...timing }));
const early = fc
  .date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('1999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const late = fc
  .date({ min: new Date('2091-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const noCursor = fc.constant(undefined);

// A decision the domain takes: `content` goes with `edit` and only with it.
const approvalDecision = fc.oneof(
  fc.record(
    { decision: fc.constantFrom('approve', 'reject'), note: fc.string({ minLength: 1, maxLength: 40 }) },
    { requiredKeys: ['decision'] },
  ),
  fc.record(
    { decision: fc.constant('edit'), content: fc.string({ minLength: 1, maxLength: 200 }) },
    { requiredKeys: ['decision', 'content'] },
  ),
);

/** Domain hints per route: schema-valid values the domain refuses by design are steered clear of. */
const HINTS: Record<string, RouteCase['hints']> = {
  'POST /v1/agent-runs': { body: { '': lordRun } },
  'POST /v1/agent-runs/:id/approval': { body: { '': approvalDecision } },
  'POST /v1/schedules': { body: { '': lordSchedule } },
  // The pool's schedules are the Seer's: research input.
  'PATCH /v1/schedules/:id': {
    body: {
      cron: rareCron,
      timezone: zone,
      input: validArbitrary(FLOW_INPUT_SCHEMAS.research, 'body.input'),
      model: fc.constantFrom('fast', 'standard', null),
    },
  },
  'GET /v1/schedules': { query: { cursor: noCursor } },
  'POST /v1/model/dispatch': {
    body: { model: fc.constantFrom('fast', 'standard'), max_tokens: fc.integer({ min: 1, max: 256 }) },
  },
  'POST /v1/events': {
    body: {
      event_type: fc.constant('test.event'),
      payload: validArbitrary(EVENT_CATALOG['test.event'].schema, 'body.payload'),
    },
  },
  // New items start in the past (so they never close an item from after them); edits keep from < to.
  'POST /v1/memory': { body: { valid_from: early, 'items[].valid_from': early } },
  'PATCH /v1/memory/:id': { body: { valid_from: early, valid_to: fc.option(late, { nil: null }) } },
  // Run windows and cost days in order (a reversed window is refused by design).
  'GET /v1/agent-runs/stats': { query: { from: early, to: late } },
  'GET /v1/agent-runs': { query: { from: early, to: late, cursor: noCursor } },
  'GET /v1/costs/daily': {
    query: { from: early.map((d) => d.slice(0, 10)), to: late.map((d) => d.slice(0, 10)) },
  },
  'GET /v1/audit-logs': { query: { from: early, to: late, cursor: noCursor } },
  'GET /v1/memory': { query: { cursor: noCursor, as_of: late } },
  'GET /v1/workspaces': { query: { cursor: noCursor } },
  'GET /v1/workspaces/:workspace_id/members': { query: { cursor: noCursor } },
};

const from = (pool: string[], pick: number) => (pool.length ? pool[pick % pool.length] : undefined);
const drop = (pool: string[], id: string | undefined) => {
  const i = id ? pool.indexOf(id) : -1;
  if (i >= 0) pool.splice(i, 1);
};

export function routeCases(world: FuzzWorld, endpoints: readonly AnyEndpoint[]): RouteCase[] {
  const { pools, ws, owner } = world;
  // A user may own 10 workspaces: creations rotate through fresh users.
  let creator: TestUser | undefined;
  let created = 0;
  return endpoints.map((endpoint) => {
    const key = routeKey(endpoint);
    const write = endpoint.method !== 'get';
    const params = (pick: number): Record<string, string> | undefined => {
      const values: Record<string, string> = {};
      for (const [, name] of endpoint.path.matchAll(/:(\w+)/g)) {
        let v: string | undefined;
        if (name === 'workspace_id') v = key.endsWith('/budget') && write ? world.budgetWs.id : ws.id;
        else if (name === 'user_id') v = from(pools.members, pick);
        else if (name === 'event_id') v = from(pools.outbox, pick);
        else if (key === 'POST /v1/agent-runs/:id/approval') v = from(pools.awaitingRuns, pick);
        else if (key.startsWith('POST /v1/agent-runs/:id')) v = from(pools.queuedRuns, pick);
        else if (key.includes('/v1/agent-runs/:id')) v = world.runId;
        else if (key.includes('/v1/memory/:id')) v = from(pools.memory, pick);
        else if (key.includes('/v1/schedules/:id')) v = from(pools.schedules, pick);
        if (v === undefined) return undefined;
        values[name!] = v;
      }
      return values;
    };
    const headers = async (): Promise<Record<string, string>> => {
      if (endpoint.role === 'platform-admin') return { authorization: BASIC_ADMIN };
      if (endpoint.role === 'none') return {};
      if (key === 'POST /v1/workspaces') {
        if (!creator || created % 8 === 0) creator = await newUser();
        created++;
        return { authorization: `Bearer ${creator.token}` };
      }
      const h: Record<string, string> = { authorization: `Bearer ${owner.token}` };
      if (WORKSPACE_ROLES.includes(endpoint.role) && !endpoint.path.includes(':workspace_id'))
        h['x-workspace-id'] = ws.id;
      return h;
    };
    const after: RouteCase['after'] = (status, p, body, answer) => {
      if (status >= 300) return;
      if (key === 'POST /v1/workspaces/:workspace_id/members')
        pools.members.push(String(body.user_id).toLowerCase());
      if (key === 'DELETE /v1/workspaces/:workspace_id/members/:user_id') drop(pools.members, p.user_id);
      if (key === 'POST /v1/agent-runs') pools.queuedRuns.push(answer.id);
      if (key === 'POST /v1/agent-runs/:id/cancel') drop(pools.queuedRuns, p.id);
      if (key === 'POST /v1/agent-runs/:id/approval') drop(pools.awaitingRuns, p.id);
      if (key === 'POST /v1/memory')
        pools.memory.push(...(answer.data ?? [answer]).map((i: { id: string }) => i.id));
      if (key === 'DELETE /v1/memory/:id') drop(pools.memory, p.id);
      if (key === 'POST /v1/schedules' && answer.agent === 'seer') pools.schedules.push(answer.id);
      if (key === 'DELETE /v1/schedules/:id') drop(pools.schedules, p.id);
      if (key === 'POST /admin/events/:event_id/replay') drop(pools.outbox, p.event_id);
    };
    // The guard's workspace_id may be named in the query too: the same workspace, or left out.
    const own = { workspace_id: fc.constantFrom(undefined, ws.id) };
    const hints = { ...HINTS[key], query: { ...own, ...HINTS[key]?.query } };
    return { endpoint, key, write, hints, params, headers, after };
  });
}

/**
 * Every row count and newest row version of every table of this worker's database: equal before and after a
 * refused request means it changed nothing. The outbox is counted only: the bus marks rows enqueued after
 * the request that wrote them has been answered.
 */
let fingerprintSql: Promise<string> | undefined;
export async function fingerprint(db: TestStack['db']): Promise<string> {
  fingerprintSql ??= fingerprintQuery(db);
  const { rows } = await db.raw(await fingerprintSql);
  // UNION ALL promises no order (a parallel append interleaves the tables): sort before comparing.
  return (rows as Array<{ t: string; n: string; v: string }>)
    .map((r) => `${r.t}:${r.n}:${r.v}`)
    .sort()
    .join(' ');
}

async function fingerprintQuery(db: TestStack['db']): Promise<string> {
  const tables = (await db('pg_tables').where({ schemaname: 'public' }).pluck('tablename')) as string[];
  return tables
    .filter((t) => !t.startsWith('knex_'))
    .sort()
    .map((t) =>
      t === 'event_outbox'
        ? `select '${t}' as t, count(*)::text as n, '' as v from "${t}"`
        : `select '${t}' as t, count(*)::text as n, coalesce(max(xmin::text::bigint), 0)::text as v from "${t}"`,
    )
    .join(' union all ');
}
