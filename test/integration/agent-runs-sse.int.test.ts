import { getLogger } from '@raptorflow/core/logging/logger';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { Knex } from 'knex';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { getSettings } from '@raptorflow/core/config/settings';
import type { RunEventType } from '@raptorflow/data/repositories/agent-run.rows';
import express from 'express';
import { createApp, whenReady } from '../../services/gateway/src/app';
import { RunEventHub } from '../../services/gateway/src/agent-runs/run-event.hub';
import { RunEventStreamService } from '../../services/gateway/src/agent-runs/run-event-stream.service';
import { RunStreamAccess } from '../../services/gateway/src/agent-runs/run-stream-access.service';
import { MembershipCache } from '../../services/gateway/src/workspaces/membership-cache';
import { MembershipService } from '../../services/gateway/src/workspaces/membership.service';
import { insertRun, seedLords } from '../support/agent-runs';
import { newTeam, newUser, newWorkspace } from '../support/factories';
import type { TestTeam } from '../support/factories';
import { expectError } from '../support/gateway';
import { client, eventually, listen } from '../support/http';
import { openSse } from '../support/sse';
import type { SseStream } from '../support/sse';
import { openStack } from '../support/stack';

/**
 * The run event stream, with the runner simulated by appending events. Two gateways: `live` polls so rarely
 * that anything it streams in time came through Redis; `polled` gets no Redis nudges at all (the events are
 * announced on another prefix's channel), so anything it streams came through its database poll.
 */
const stack = openStack();
const servers: Array<{ url: string; close: () => Promise<void> }> = [];
let live: string;
let polled: string;
let t: TestTeam;

async function start(runStreams: { pollMs: number; heartbeatMs: number }): Promise<string> {
  const app = createApp({
    settings: getSettings(),
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
    runStreams,
  });
  if (!(await whenReady(app))) throw new Error('gateway not ready');
  const server = await listen(app);
  servers.push(server);
  return server.url;
}

beforeAll(async () => {
  live = await start({ pollMs: 60_000, heartbeatMs: 150 });
  polled = await start({ pollMs: 100, heartbeatMs: 60_000 });
  t = await newTeam(stack.db);
  await seedLords(stack.db, t.ws.id);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await stack.close();
});

const announced = () => new RunEventLog({ db: stack.db, redis: stack.redis, prefix: stack.prefix });
const unannounced = () => new RunEventLog({ db: stack.db, redis: stack.redis, prefix: '{nobody-listens}' });

/** What the runner would do: move the row and log the event in one transaction. */
async function progress(
  log: RunEventLog,
  run: { id: string; workspace_id: string },
  type: RunEventType,
  data: Record<string, unknown>,
): Promise<number> {
  return stack.db.transaction(async (trx: Knex.Transaction) => {
    if (type === 'status') await trx('agent_runs').where({ id: run.id }).update({ status: data.status });
    return log.append(run, type, data, trx);
  });
}

const open = (base: string, runId: string, headers: Record<string, string> = {}, qs = '') =>
  openSse(`${base}/v1/agent-runs/${runId}/events${qs}`, {
    token: t.member.token,
    headers: { 'x-workspace-id': t.ws.id, ...headers },
  });

const summary = (s: SseStream) => s.events.map((e) => [e.event, e.data.status ?? e.data.step]);

it('streams a run live through Redis, heartbeats, and ends after the terminal status', async () => {
  const created = await client(live, t.member.token).post(
    '/v1/agent-runs',
    { agent: 'cognition', input: { topic: 'streams' } },
    { headers: { 'x-workspace-id': t.ws.id } },
  );
  const run = { id: created.body.id as string, workspace_id: t.ws.id };
  const a = await open(live, run.id);
  const b = await open(live, run.id);
  expect(a.status).toBe(200);
  expect(a.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(a.headers.get('cache-control')).toMatch(/no-cache/);
  expect(a.headers.get('x-accel-buffering')).toBe('no');
  const [queued] = await a.waitForEvents(1);
  const row = await stack.db('agent_run_events').where({ run_id: run.id }).first();
  expect(queued).toEqual({
    id: String(row.id),
    event: 'status',
    data: { run_id: run.id, type: 'status', status: 'queued', at: row.created_at.toISOString() },
  });

  const log = announced();
  await progress(log, run, 'status', { status: 'running' });
  await a.waitForEvents(2, 2_000);
  await progress(log, run, 'step.started', { step: 'plan', position: 0 });
  await progress(log, run, 'step.completed', { step: 'plan', position: 0, cost_usd: 0.001 });
  await a.waitForEvents(4, 2_000);
  await eventually(async () => a.comments.includes('ping'), 2_000);
  await progress(log, run, 'status', { status: 'completed' });
  for (const s of [a, b]) {
    await s.ended(2_000);
    expect(summary(s)).toEqual([
      ['status', 'queued'],
      ['status', 'running'],
      ['step.started', 'plan'],
      ['step.completed', 'plan'],
      ['status', 'completed'],
    ]);
  }
  const ids = a.events.map((e) => Number(e.id));
  expect(ids).toEqual([...ids].sort((x, y) => x - y));
  expect(a.events[3]!.data).toMatchObject({ run_id: run.id, type: 'step.completed', cost_usd: 0.001 });
});

it('falls back to polling the database when no Redis message arrives', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer', { status: 'running' });
  const s = await open(polled, run.id);
  expect(s.status).toBe(200);
  const log = unannounced();
  await progress(log, run, 'step.started', { step: 'gather' });
  await s.waitForEvents(1, 2_000);
  await progress(log, run, 'status', { status: 'failed' });
  await s.ended(2_000);
  expect(summary(s)).toEqual([
    ['step.started', 'gather'],
    ['status', 'failed'],
  ]);
});

it('gives a reconnecting client exactly the events it missed (Last-Event-ID or ?last_event_id=)', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer');
  const log = announced();
  await progress(log, run, 'status', { status: 'queued' });
  await progress(log, run, 'status', { status: 'running' });
  const first = await open(live, run.id);
  const seen = await first.waitForEvents(2);
  first.close();

  const missed = [
    await progress(log, run, 'step.started', { step: 'plan' }),
    await progress(log, run, 'step.completed', { step: 'plan' }),
  ];
  const again = await open(live, run.id, { 'last-event-id': seen[1]!.id! });
  const byQuery = await open(live, run.id, {}, `?last_event_id=${seen[1]!.id}`);
  for (const s of [again, byQuery]) {
    await s.waitForEvents(2);
    expect(s.events.map((e) => Number(e.id))).toEqual(missed);
  }
  // The header wins over the query: a browser reconnects to the URL it first opened, plus Last-Event-ID.
  const both = await open(
    live,
    run.id,
    { 'last-event-id': String(missed[0]) },
    `?last_event_id=${seen[0]!.id}`,
  );
  await both.waitForEvents(1);

  const last = await progress(log, run, 'status', { status: 'completed' });
  for (const s of [again, byQuery]) {
    await s.ended(2_000);
    expect(s.events.map((e) => Number(e.id))).toEqual([...missed, last]);
  }
  await both.ended(2_000);
  expect(both.events.map((e) => Number(e.id))).toEqual([missed[1], last]);
});

it('replays a finished run and ends; 204 once nothing is left to send', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer', { status: 'completed', completed_at: new Date() });
  const log = announced();
  const ids: number[] = [];
  for (const status of ['queued', 'running', 'completed'])
    ids.push(await log.append(run, 'status', { status }));

  for (const base of [live, polled]) {
    const s = await open(base, run.id);
    expect(s.status).toBe(200);
    await s.ended(2_000);
    expect(summary(s)).toEqual([
      ['status', 'queued'],
      ['status', 'running'],
      ['status', 'completed'],
    ]);
  }
  const tail = await open(live, run.id, { 'last-event-id': String(ids[0]) });
  await tail.ended(2_000);
  expect(tail.events.map((e) => Number(e.id))).toEqual(ids.slice(1));
  // An EventSource stops reconnecting on a 204.
  const done = await open(live, run.id, { 'last-event-id': String(ids[2]) });
  expect(done.status).toBe(204);
  const silent = await insertRun(stack.db, t.ws.id, 'seer', { status: 'failed' });
  expect((await open(live, silent.id)).status).toBe(204);
});

it('ends the stream of a run that finished without a terminal status event', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer', { status: 'running' });
  const s = await open(polled, run.id);
  expect(s.status).toBe(200);
  await stack.db('agent_runs').where({ id: run.id }).update({ status: 'failed' });
  await s.ended(2_000);
  expect(s.events).toEqual([]);
});

it('refuses other workspaces’ runs (404) and a malformed Last-Event-ID (422)', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer');
  const stranger = await newUser();
  await newWorkspace(stack.db, stranger);
  expectError(await client(live, stranger.token).get(`/v1/agent-runs/${run.id}/events`), 404, 'not_found');
  const m = client(live, t.member.token);
  const h = { 'x-workspace-id': t.ws.id };
  expectError(
    await m.get(`/v1/agent-runs/${run.id}/events`, { headers: { ...h, 'last-event-id': 'abc' } }),
    422,
    'validation_failed',
  );
  expectError(
    await m.get(`/v1/agent-runs/${run.id}/events?last_event_id=-1`, { headers: h }),
    422,
    'validation_failed',
  );
  expectError(await client(live).get(`/v1/agent-runs/${run.id}/events`), 401, 'unauthenticated');
});

it('stops watching, polling and heartbeating for a client that went away', async () => {
  const run = await insertRun(stack.db, t.ws.id, 'seer', { status: 'running' });
  const hub = new RunEventHub({ db: stack.db, prefix: stack.prefix, pollMs: 100, logger: getLogger() });
  const log = announced();
  const access = new RunStreamAccess({
    memberships: new MembershipService({ db: stack.db, cache: new MembershipCache({ ttlMs: 0, max: 0 }) }),
    logger: getLogger(),
  });
  const streams = new RunEventStreamService({
    hub,
    access,
    events: log,
    heartbeatMs: 50,
    logger: getLogger(),
  });
  const app = express();
  const reader = { userId: t.member.id, workspaceId: t.ws.id };
  app.get('/s', (_req, res) => streams.open(res, { id: run.id, status: 'running' }, 0, reader));
  const server = await listen(app);
  servers.push(server);
  const a = await openSse(`${server.url}/s`);
  const b = await openSse(`${server.url}/s`);
  await eventually(async () => hub.size === 2);
  a.close();
  await eventually(async () => hub.size === 1);
  await log.append(run, 'step.started', { step: 'plan' });
  await b.waitForEvents(1);
  b.close();
  await eventually(async () => hub.size === 0);
  // Membership re-checks stop with the streams too.
  expect(access.size).toBe(0);
  hub.close();
});
