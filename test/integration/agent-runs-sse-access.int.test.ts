import type { Knex } from 'knex';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { getSettings } from '@raptorflow/core/config/settings';
import type { RunEventType } from '@raptorflow/data/repositories/agent-run.rows';
import type { Settings } from '@raptorflow/core/config/settings';
import { createApp, whenReady } from '../../services/gateway/src/app';
import { insertRun, seedLords } from '../support/agent-runs';
import { newUser, newWorkspace } from '../support/factories';
import type { TestUser, TestWorkspace } from '../support/factories';
import { client, listen } from '../support/http';
import { openSse } from '../support/sse';
import type { SseStream } from '../support/sse';
import { openStack } from '../support/stack';

/**
 * An open run event stream is access that outlives the request that checked it. Removing a member must end
 * their open streams (a final `error` event, then the end), on whichever gateway they are open, and nothing
 * appended after the removal may reach them.
 */
const stack = openStack();
const servers: Array<{ url: string; close: () => Promise<void> }> = [];
let a: string;
let b: string;

async function start(settings: Settings = getSettings(), accessCheckMs?: number): Promise<string> {
  const app = createApp({
    settings,
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
    runStreams: { pollMs: 200, heartbeatMs: 60_000, ...(accessCheckMs ? { accessCheckMs } : {}) },
  });
  if (!(await whenReady(app))) throw new Error('gateway not ready');
  const server = await listen(app);
  servers.push(server);
  return server.url;
}

beforeAll(async () => {
  a = await start();
  b = await start();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await stack.close();
});

const log = () => new RunEventLog({ db: stack.db, redis: stack.redis, prefix: stack.prefix });

/** What the runner would do: move the row and log the event in one transaction. */
function progress(
  run: { id: string; workspace_id: string },
  type: RunEventType,
  data: Record<string, unknown>,
) {
  return stack.db.transaction(async (trx: Knex.Transaction) => {
    if (type === 'status') await trx('agent_runs').where({ id: run.id }).update({ status: data.status });
    return log().append(run, type, data, trx);
  });
}

async function setUp(): Promise<{
  owner: TestUser;
  member: TestUser;
  ws: TestWorkspace;
  run: { id: string; workspace_id: string };
}> {
  const owner = await newUser();
  const member = await newUser();
  const ws = await newWorkspace(stack.db, owner, { members: [{ user: member, role: 'admin' }] });
  await seedLords(stack.db, ws.id);
  const run = await insertRun(stack.db, ws.id, 'seer', { status: 'running' });
  return { owner, member, ws, run };
}

function watch(base: string, who: TestUser, ws: TestWorkspace, runId: string): Promise<SseStream> {
  return openSse(`${base}/v1/agent-runs/${runId}/events`, {
    token: who.token,
    headers: { 'x-workspace-id': ws.id },
  });
}

function expectRevoked(s: SseStream, delivered: number): void {
  expect(s.events).toHaveLength(delivered + 1);
  const last = s.events[delivered]!;
  expect(last.event).toBe('error');
  expect(last.id).toBeUndefined(); // not a run event: Last-Event-ID stays on the last one delivered
  expect(last.data).toMatchObject({ error: { code: 'permission_denied', message: expect.any(String) } });
}

it('ends a removed member’s stream at once and delivers nothing appended after the removal', async () => {
  const { owner, member, ws, run } = await setUp();
  const s = await watch(a, member, ws, run.id);
  expect(s.status).toBe(200);
  const seen = await progress(run, 'step.started', { step: 'plan' });
  await s.waitForEvents(1, 2_000);

  expect(
    (await client(a, owner.token).call('DELETE', `/v1/workspaces/${ws.id}/members/${member.id}`)).status,
  ).toBe(204);
  // Appended right after the removal answered: the stream must not carry it.
  const after = await progress(run, 'step.completed', { step: 'plan' });
  await s.ended(2_000);
  expectRevoked(s, 1);
  expect(Number(s.events[0]!.id)).toBe(seen);
  expect(s.events.map((e) => Number(e.id))).not.toContain(after);
  // And the member cannot open it again.
  expect((await watch(a, member, ws, run.id)).status).toBe(403);
});

it('ends the stream on the gateway it is open on when another gateway removes the member', async () => {
  const { owner, member, ws, run } = await setUp();
  const s = await watch(a, member, ws, run.id);
  expect(s.status).toBe(200);
  expect(
    (await client(b, owner.token).call('DELETE', `/v1/workspaces/${ws.id}/members/${member.id}`)).status,
  ).toBe(204);
  await s.ended(2_000);
  expectRevoked(s, 0);
});

it('keeps streaming to a member whose role changed (access did not end)', async () => {
  const { owner, member, ws, run } = await setUp();
  const s = await watch(a, member, ws, run.id);
  const patched = await client(b, owner.token).call('PATCH', `/v1/workspaces/${ws.id}/members/${member.id}`, {
    body: { role: 'member' },
  });
  expect(patched.status).toBe(200);
  await progress(run, 'step.started', { step: 'plan' });
  await s.waitForEvents(1, 2_000);
  await progress(run, 'status', { status: 'completed' });
  await s.ended(2_000);
  expect(s.events.map((e) => e.event)).toEqual(['step.started', 'status']);
});

it('ends the stream by the periodic re-check when the removal was never broadcast', async () => {
  // A removal whose invalidation message was lost (Redis blip): only cache TTL + re-check interval bound it.
  const settings = getSettings();
  const c = await start({ ...settings, membershipCache: { ...settings.membershipCache, ttlMs: 200 } }, 100);
  const { member, ws, run } = await setUp();
  const s = await watch(c, member, ws, run.id);
  expect(s.status).toBe(200);
  await stack.db('workspace_members').where({ workspace_id: ws.id, user_id: member.id }).delete();
  await s.ended(3_000);
  expectRevoked(s, 0);
});
