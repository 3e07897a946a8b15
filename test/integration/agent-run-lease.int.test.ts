import type { RunAgentResolver } from '../../services/agent-runner/src/run-agent-resolver.service';
import { agentResolver, runLease, runSweeper } from '../support/runner-wiring';
import { insertRun, lordsWorkspace, seedLords } from '../support/agent-runs';
import { newUser, newWorkspace } from '../support/factories';
import { openStack } from '../support/stack';
import { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';

/** Claims, leases and the ghost sweeper on real PostgreSQL (no processes: the services are called directly). */
const stack = openStack();
afterAll(() => stack.close());

const lease = (
  owner: string,
  extra: { leaseMs?: number; workspaceConcurrency?: number; agents?: RunAgentResolver } = {},
) => runLease(stack, owner, { leaseMs: 60_000, ...extra });

/** A queued research run of the workspace's Cognition, as the full row the lease service takes. */
async function queuedRun(wsId: string) {
  const { id } = await insertRun(stack.db, wsId, 'cognition');
  return stack.db('agent_runs').where({ id }).first();
}

it('a run is claimed by exactly one of many concurrent runners', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const run = await queuedRun(ws.id);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => lease(`runner-${i}`).claim(run.id)));
  expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
  expect(results.filter((r) => r.kind === 'held')).toHaveLength(7);
  const row = await stack.db('agent_runs').where({ id: run.id }).first();
  expect(row).toMatchObject({ status: 'running', attempts: 1 });
});

it('never lets more than the cap run in one workspace, whatever the interleaving', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const runs = await Promise.all(Array.from({ length: 10 }, () => queuedRun(ws.id)));
  const results = await Promise.all(
    runs.map((r, i) => lease(`runner-${i}`, { workspaceConcurrency: 3 }).claim(r.id)),
  );
  expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(3);
  expect(results.filter((r) => r.kind === 'wait')).toHaveLength(7);
});

/** The run's runner stalled a minute ago: its lease and heartbeat both long past (written, not waited for). */
async function stall(runId: string): Promise<void> {
  await stack
    .db('agent_runs')
    .where({ id: runId })
    .update({
      heartbeat_at: stack.db.raw(`now() - interval '1 minute'`),
      lease_expires_at: stack.db.raw(`now() - interval '1 minute'`),
    });
}

it('a lease that ran out can be taken over; the old holder learns it lost it', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const run = await queuedRun(ws.id);
  const firstLease = lease('first');
  const first = await firstLease.claim(run.id);
  expect(first.kind).toBe('claimed');
  expect((await lease('second').claim(run.id)).kind).toBe('held');
  await stall(run.id);
  const secondLease = lease('second');
  const taken = await secondLease.claim(run.id);
  expect(taken).toMatchObject({ kind: 'claimed', resumed: true });
  if (first.kind !== 'claimed' || taken.kind !== 'claimed') throw new Error('unreachable');
  expect(await firstLease.renew(first.run)).toEqual({ held: false, cancelRequested: false });
  expect(await firstLease.finish(first.run, 'completed', { output: {} })).toBe(false);
  await stack.db('agent_runs').where({ id: run.id }).update({ cancel_requested_at: stack.db.fn.now() });
  expect(await secondLease.renew(taken.run)).toEqual({ held: true, cancelRequested: true });
  expect(await secondLease.finish(taken.run, 'cancelled', {})).toBe(true);
  expect((await lease('third').claim(run.id)).kind).toBe('done');
});

it('an attempt whose run the sweeper handed to a later claim, even of the same process, writes nothing (fencing)', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const run = await queuedRun(ws.id);
  const runner = lease('one-process');
  const first = await runner.claim(run.id);
  // The attempt stalls past its lease; the sweeper requeues the run and another slot of the process claims it.
  await stall(run.id);
  expect((await runSweeper(stack, { leaseMs: 5_000 }).sweep()).requeued).toBeGreaterThanOrEqual(1);
  const second = await runner.claim(run.id);
  if (first.kind !== 'claimed' || second.kind !== 'claimed') throw new Error('both claims should succeed');
  expect(second.run.attempts).toBe(first.run.attempts + 1);
  const steps = new AgentRunStepRepository(stack.db);
  const step = { workspace_id: ws.id, key: 'plan', position: 0 };
  const out = (text: string) => ({
    output: { text },
    model: 'm',
    input_tokens: 1,
    output_tokens: 1,
    cost_usd: '0',
  });
  // What rides with a step's end (the runner's one-round-trip statements): its event, no audit rows here.
  const end = (event: Record<string, unknown>) => ({ workspaceId: ws.id, event, audit: [] });
  const stepEvents = () =>
    stack.db('agent_run_events').where({ run_id: run.id }).whereLike('type', 'step.%').orderBy('id');
  expect(await steps.begin(first.run, step)).toBeUndefined();
  expect(await steps.begin(second.run, step)).toMatchObject({ kind: 'started', position: 0, attempts: 1 });
  expect(await steps.complete(first.run, 'plan', out('stale'), end({ step: 'plan' }))).toBe(false);
  const error = { code: 'x', message: 'stale' };
  expect(await steps.fail(first.run, 'plan', error, end({ step: 'plan', error }))).toBe(false);
  // The stale attempt's writes left the step row as the current claim started it.
  expect(await stack.db('agent_run_steps').where({ run_id: run.id, key: 'plan' }).first()).toMatchObject({
    status: 'running',
    attempts: 1,
    output: null,
    error: null,
  });
  expect(await steps.complete(second.run, 'plan', out('current'), end({ step: 'plan' }))).toBe(true);
  expect(await runner.renew(first.run)).toEqual({ held: false, cancelRequested: false });
  expect(await runner.renew(second.run)).toEqual({ held: true, cancelRequested: false });
  expect(await runner.finish(first.run, 'completed', { output: {} })).toBe(false);
  expect(await steps.begin(second.run, step)).toEqual({ kind: 'stored', output: { text: 'current' } });
  expect(await stack.db('agent_run_steps').where({ run_id: run.id })).toEqual([
    expect.objectContaining({ key: 'plan', status: 'completed', output: { text: 'current' }, attempts: 1 }),
  ]);
  // Only the current claim's step events, but for the failure a stale attempt reports (written either way,
  // as its audit rows: the runner's statements; see agent-run-step-statements.int.test.ts).
  expect((await stepEvents()).map((e) => e.type)).toEqual(['step.started', 'step.failed', 'step.completed']);
  expect(await runner.finish(second.run, 'completed', { output: {} })).toBe(true);
  // And the stale attempt cannot restart a step of a finished run either.
  expect(await steps.begin(second.run, { ...step, key: 'gather', position: 1 })).toBeUndefined();
  expect(await stack.db('agent_run_steps').where({ run_id: run.id, key: 'gather' })).toHaveLength(0);
});

it('the sweeper requeues a ghost run (no live lease) once, through the outbox', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const run = await queuedRun(ws.id);
  await lease('dead').claim(run.id);
  await stall(run.id);
  const sweeper = runSweeper(stack, { leaseMs: 5_000 });
  const outbox = () =>
    stack
      .db('event_outbox')
      .where({ event_type: 'agent.run.requested' })
      .whereRaw(`envelope->'payload'->>'agent_run_id' = ?`, [run.id]);
  expect((await sweeper.sweep()).requeued).toBeGreaterThanOrEqual(1);
  expect(await outbox()).toHaveLength(1);
  await sweeper.sweep();
  expect(await outbox()).toHaveLength(1); // left alone for two lease periods
  expect((await lease('new').claim(run.id)).kind).toBe('claimed');
});

it('prunes the checkpoints of runs finished longer ago than the retention', async () => {
  const { ws } = await lordsWorkspace(stack.db);
  const old = await queuedRun(ws.id);
  const recent = await queuedRun(ws.id);
  await stack
    .db('agent_runs')
    .where({ id: old.id })
    .update({ status: 'completed', completed_at: stack.db.raw(`now() - interval '10 days'`) });
  await stack
    .db('agent_runs')
    .where({ id: recent.id })
    .update({ status: 'completed', completed_at: stack.db.fn.now() });
  for (const id of [old.id, recent.id])
    await stack.db('langgraph.checkpoints').insert({ thread_id: id, checkpoint_id: 'c1', checkpoint: '{}' });
  await runSweeper(stack, { retentionHours: 24 }).pruneCheckpoints();
  const left = await stack
    .db('langgraph.checkpoints')
    .whereIn('thread_id', [old.id, recent.id])
    .pluck('thread_id');
  expect(left).toEqual([recent.id]);
});

/** A run the gateway queued before the workspace was seeded: no agent row yet, so no agent_id. */
async function unseededRun(agedMs = 0) {
  const ws = await newWorkspace(stack.db, await newUser());
  const [run] = await stack
    .db('agent_runs')
    .insert({
      workspace_id: ws.id,
      agent_key: 'cognition',
      flow: 'research',
      model: 'standard',
      input: JSON.stringify({ topic: 't' }),
      created_at: stack.db.raw(`now() - make_interval(secs => ?::double precision / 1000)`, [agedMs]),
    })
    .returning<Array<{ id: string; workspace_id: string }>>(['id', 'workspace_id']);
  return run!;
}

it('a run whose agent is not seeded yet stays queued (not started, no attempt) and starts once it is', async () => {
  const run = await unseededRun();
  const runner = lease('before-seeding', { agents: agentResolver(stack, 60_000) });
  const early = await runner.claim(run.id);
  if (early.kind !== 'unseeded') throw new Error(`expected unseeded, got ${early.kind}`);
  expect(early.retryInMs).toBeGreaterThanOrEqual(500);
  expect(early.retryInMs).toBeLessThanOrEqual(750);
  expect(await stack.db('agent_runs').where({ id: run.id }).first()).toMatchObject({
    status: 'queued',
    agent_id: null,
    attempts: 0,
    started_at: null,
    lease_owner: null,
  });
  expect(await stack.db('agent_run_events').where({ run_id: run.id })).toHaveLength(0);

  await seedLords(stack.db, run.workspace_id);
  const cognition = await stack
    .db('agents')
    .where({ workspace_id: run.workspace_id, key: 'cognition' })
    .first();
  const claimed = await runner.claim(run.id);
  if (claimed.kind !== 'claimed') throw new Error(`expected claimed, got ${claimed.kind}`);
  expect(claimed.run).toMatchObject({ agent_id: cognition.id, status: 'running', attempts: 1 });
});

it('fails a run never seeded once the wait is over, without starting it; never waits past the bound', async () => {
  const agents = agentResolver(stack, 1_000);
  // Aged by its created_at (the database clock decides), not by sleeping.
  const nearly = await unseededRun(900);
  const last = await lease('r', { agents }).claim(nearly.id);
  if (last.kind !== 'unseeded') throw new Error(`expected unseeded, got ${last.kind}`);
  expect(last.retryInMs).toBeLessThanOrEqual(100);

  const run = await unseededRun(1_500);
  const result = await lease('r', { agents }).claim(run.id);
  expect(result).toEqual({
    kind: 'failed',
    error: {
      code: 'agent_not_seeded',
      message:
        'No agent "cognition" in this workspace after waiting 1000 ms: ' +
        "the workspace's Council of Lords was never seeded",
    },
  });
  const row = await stack.db('agent_runs').where({ id: run.id }).first();
  expect(row).toMatchObject({ status: 'failed', agent_id: null, attempts: 0, started_at: null });
  expect(row.error.code).toBe('agent_not_seeded');
  const events = await stack.db('agent_run_events').where({ run_id: run.id });
  expect(events.map((e) => e.data.status)).toEqual(['failed']);
  expect((await lease('other', { agents }).claim(run.id)).kind).toBe('done');
});
