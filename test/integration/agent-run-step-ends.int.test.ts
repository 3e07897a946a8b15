import type { Knex } from 'knex';
import { z } from 'zod';
import { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import { LeaseLostError } from '../../services/agent-runner/src/run-lease.service';
import { RunSteps } from '../../services/agent-runner/src/run-steps.service';
import { createModelDispatchTool } from '../../services/agent-runner/src/tools/model-dispatch.tool';
import { insertRun, lordsWorkspace } from '../support/agent-runs';
import { eventually } from '../support/http';
import { newDispatcher } from '../support/llm';
import { runEventLog, runLease, runMemory } from '../support/runner-wiring';
import { openStack } from '../support/stack';

/**
 * A step hands its output to the flow while its end (row, audit rows, step.completed) is still being
 * written; the next step's budget reservation overlaps that write, its provider call does not start before
 * the write commits, and a failed end stops the run there: on real PostgreSQL, the real ModelDispatcher on the
 * offline local provider. The end is held by a lock on the run's event table, so each moment is the test's.
 */
const stack = openStack();
afterAll(() => stack.close());
const { dispatcher } = newDispatcher(stack, { LLM_PROVIDER: 'local' });

async function firstClaim(): Promise<AgentRunRow> {
  const { ws } = await lordsWorkspace(stack.db);
  const { id } = await insertRun(stack.db, ws.id, 'cognition');
  const claim = await runLease(stack, 'ends', { leaseMs: 60_000 }).claim(id);
  if (claim.kind !== 'claimed') throw new Error(`claim: ${claim.kind}`);
  return claim.run;
}

function stepsOf(run: AgentRunRow): RunSteps {
  const ctx = { workspace_id: run.workspace_id, agent_run_id: run.id };
  return new RunSteps({
    steps: new AgentRunStepRepository(stack.db),
    audit: new AuditLogRepository(stack.db),
    costs: new CostLogRepository(stack.db),
    events: runEventLog(stack),
    run,
    model: 'fast',
    dispatchTool: createModelDispatchTool(ctx, { dispatcher }),
    memory: runMemory(stack, dispatcher),
    signal: new AbortController().signal,
  });
}

const ask = (steps: RunSteps, key: string) =>
  steps.step(key, (scope) =>
    scope.dispatch({ prompt: `${key}?`, schema: z.object({}).loose(), schemaName: key }),
  );

/** Holds every write to the run event table (a step's begin and end each append one) until released. */
async function holdEvents(): Promise<Knex.Transaction> {
  const trx = await stack.db.transaction();
  await trx.raw('LOCK TABLE agent_run_events IN EXCLUSIVE MODE');
  return trx;
}

const reservations = (runId: string) =>
  stack.db('budget_reservations').where({ agent_run_id: runId }).orderBy('created_at');
const costs = (runId: string) => stack.db('cost_logs').where({ agent_run_id: runId }).orderBy('created_at');
const stepEvents = (runId: string) =>
  stack
    .db('agent_run_events')
    .where({ run_id: runId })
    .whereLike('type', 'step.%')
    .orderBy('id')
    .select('type', stack.db.raw(`data->>'step' AS step`));

it("returns a step's output before its end commits; the next call reserves meanwhile and calls the provider after", async () => {
  const run = await firstClaim();
  const steps = stepsOf(run);
  const held = await holdEvents();
  let released: Date | undefined;
  try {
    // The first step's begin and end both wait on the lock, yet its output is back.
    const first = await ask(steps, 'plan');
    expect(first.model).toBeTruthy();
    const second = ask(steps, 'gather');
    // The second call's reservation is made while the first end waits; its provider call is not.
    await eventually(async () => (await reservations(run.id)).length === 2, 10_000);
    expect((await costs(run.id)).length).toBe(1);
    expect(await stack.db('agent_run_steps').where({ run_id: run.id })).toEqual([]);
    released = (await held.raw('SELECT clock_timestamp() AS t')).rows[0].t as Date;
    await held.commit();
    await second;
  } finally {
    if (!held.isCompleted()) await held.rollback();
  }
  await steps.settled();
  const [plan, gather] = await costs(run.id);
  // The second call's record began after the first end could commit, so its provider call did too.
  expect(new Date(gather.created_at).getTime()).toBeGreaterThanOrEqual(released!.getTime());
  expect(new Date(plan.created_at).getTime()).toBeLessThan(released!.getTime());
  // One step after the other in the run's events, as when each end was awaited.
  expect(await stepEvents(run.id)).toEqual([
    { type: 'step.started', step: 'plan' },
    { type: 'step.completed', step: 'plan' },
    { type: 'step.started', step: 'gather' },
    { type: 'step.completed', step: 'gather' },
  ]);
  const rows = await stack.db('agent_run_steps').where({ run_id: run.id }).orderBy('position');
  expect(rows.map((r) => [r.key, r.status, r.position])).toEqual([
    ['plan', 'completed', 0],
    ['gather', 'completed', 1],
  ]);
});

it('stops at a step whose end was refused: the next call never reaches the provider and gives its budget back', async () => {
  const run = await firstClaim();
  const steps = stepsOf(run);
  const held = await holdEvents();
  let second: Promise<unknown> | undefined;
  try {
    await ask(steps, 'plan');
    second = ask(steps, 'gather');
    second.catch(() => undefined);
    await eventually(async () => (await reservations(run.id)).length === 2, 10_000);
    // Another claim takes the run while the first end waits: that end's fence refuses it.
    await stack.db('agent_runs').where({ id: run.id }).increment('attempts', 1);
    await held.commit();
  } finally {
    if (!held.isCompleted()) await held.rollback();
  }
  await expect(second).rejects.toBeInstanceOf(LeaseLostError);
  await expect(steps.settled()).rejects.toBeInstanceOf(LeaseLostError);
  expect((await costs(run.id)).map((c) => c.outcome)).toEqual(['success']);
  expect((await reservations(run.id)).map((r) => r.status)).toEqual(['settled', 'released']);
  // The first step's begin and end both waited on the lock, so the fence refused both; the next step never
  // began: the run has no step row and no step event of this claim.
  expect(await stepEvents(run.id)).toEqual([]);
  expect(await stack.db('agent_run_steps').where({ run_id: run.id })).toEqual([]);
});
