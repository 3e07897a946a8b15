import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AuditLogInsert } from '@raptorflow/data/repositories/audit-log.repository';
import { runLease, runSweeper } from '../support/runner-wiring';
import { insertRun, lordsWorkspace } from '../support/agent-runs';
import { openStack } from '../support/stack';

/**
 * The runner's one-round-trip step statements on real PostgreSQL: what each writes together, what the fence
 * refuses, and that the run's cost so far in step.completed is the exact sum of its cost rows.
 */
const stack = openStack();
afterAll(() => stack.close());

async function claimedRun() {
  const { ws } = await lordsWorkspace(stack.db);
  const { id } = await insertRun(stack.db, ws.id, 'cognition');
  const claim = await runLease(stack, 'steps', { leaseMs: 60_000 }).claim(id);
  if (claim.kind !== 'claimed') throw new Error(`claim: ${claim.kind}`);
  return { ws, run: claim.run };
}

const events = (runId: string) =>
  stack.db('agent_run_events').where({ run_id: runId }).whereLike('type', 'step.%').orderBy('id');

function toolCall(wsId: string, runId: string, n: number): AuditLogInsert {
  return new AuditLogService({ db: stack.db }).row({
    action: 'tool.call',
    workspaceId: wsId,
    actorType: 'agent',
    actorId: null,
    toolName: 'model_dispatch',
    input: { prompt: `p${n}`, quote: 'a "quoted" \\ text' },
    output: n % 2 ? { text: 't' } : undefined,
    metadata: { duration_ms: n, outcome: 'success' },
    agentRunId: runId,
  });
}

const out = (text: string) => ({
  output: { text },
  model: 'm',
  input_tokens: 3,
  output_tokens: 2,
  cost_usd: '0.0000012340',
});

it('begins a step with its event, restarts it as a new attempt, and returns a completed one as stored', async () => {
  const { ws, run } = await claimedRun();
  const steps = new AgentRunStepRepository(stack.db);
  const first = await steps.begin(run, { workspace_id: ws.id, key: 'plan', position: undefined });
  expect(first).toMatchObject({
    kind: 'started',
    position: 0,
    attempts: 1,
    nextPosition: 0,
    runTotals: { inputTokens: 0, outputTokens: 0, costUsd: '0' },
  });
  const again = await steps.begin(run, { workspace_id: ws.id, key: 'plan', position: 1 });
  expect(again).toMatchObject({ kind: 'started', position: 0, attempts: 2, nextPosition: 1 });
  const next = await steps.begin(run, { workspace_id: ws.id, key: 'gather', position: undefined });
  expect(next).toMatchObject({ kind: 'started', position: 1, attempts: 1, nextPosition: 1 });
  expect((await events(run.id)).map((e) => [e.type, e.data])).toEqual([
    ['step.started', { step: 'plan', position: 0, attempt: 1 }],
    ['step.started', { step: 'plan', position: 0, attempt: 2 }],
    ['step.started', { step: 'gather', position: 1, attempt: 1 }],
  ]);
  const end = { workspaceId: ws.id, event: { step: 'plan', position: 0, cost_usd: 0.000001234 }, audit: [] };
  expect(await steps.complete(run, 'plan', out('done'), end)).toBe(true);
  const stored = await steps.begin(run, { workspace_id: ws.id, key: 'plan', position: 2 });
  expect(stored).toEqual({ kind: 'stored', output: { text: 'done' } });
  expect(await events(run.id)).toHaveLength(4);
});

it('completes a step with its audit rows and its event carrying the exact cost of the run so far', async () => {
  const { ws, run } = await claimedRun();
  const steps = new AgentRunStepRepository(stack.db);
  await steps.begin(run, { workspace_id: ws.id, key: 'plan', position: undefined });
  // Cost rows whose float sum is not exact: the event's total must be the decimal sum, read as a number.
  const costs = ['0.1000000001', '0.2000000002', '0.0000000007'];
  for (const cost_usd of costs)
    await stack.db('cost_logs').insert({
      workspace_id: ws.id,
      agent_run_id: run.id,
      provider: 'local',
      model: 'm',
      input_tokens: 1,
      output_tokens: 1,
      cost_usd,
    });
  const audit = [toolCall(ws.id, run.id, 1), toolCall(ws.id, run.id, 2)];
  const event = { step: 'plan', position: 0, cost_usd: 0.000001234, text: 'answer' };
  expect(await steps.complete(run, 'plan', out('x'), { workspaceId: ws.id, event, audit })).toBe(true);
  const [completed] = (await events(run.id)).filter((e) => e.type === 'step.completed');
  expect(completed.data).toEqual({ ...event, run_cost_usd: Number('0.3000000010') });
  // The next step begins knowing the run's totals (a memory call measures its embedding cost from them).
  const next = await steps.begin(run, { workspace_id: ws.id, key: 'gather', position: 1 });
  expect(next).toMatchObject({ runTotals: { costUsd: '0.3000000010', inputTokens: 3, outputTokens: 3 } });
  const rows = await stack.db('audit_logs').where({ agent_run_id: run.id }).orderBy('created_at');
  expect(rows).toHaveLength(2);
  expect(rows.map((r) => r.input)).toEqual(
    expect.arrayContaining([audit[0]!.input, audit[1]!.input].map((s) => JSON.parse(s!))),
  );
  expect(rows.find((r) => r.output === null)).toBeDefined();
  const step = await stack.db('agent_run_steps').where({ run_id: run.id, key: 'plan' }).first();
  expect(step).toMatchObject({ status: 'completed', output: { text: 'x' }, cost_usd: '0.0000012340' });
});

it('a stale claim writes no step row or step event, but its calls’ audit rows and a failure event', async () => {
  const { ws, run } = await claimedRun();
  const steps = new AgentRunStepRepository(stack.db);
  await steps.begin(run, { workspace_id: ws.id, key: 'plan', position: undefined });
  await stack
    .db('agent_runs')
    .where({ id: run.id })
    .update({
      lease_expires_at: stack.db.raw(`now() - interval '1 minute'`),
      heartbeat_at: stack.db.raw(`now() - interval '1 minute'`),
    });
  expect((await runSweeper(stack, { leaseMs: 5_000 }).sweep()).requeued).toBeGreaterThanOrEqual(1);
  const second = await runLease(stack, 'later', { leaseMs: 60_000 }).claim(run.id);
  expect(second.kind).toBe('claimed');
  const before = (await events(run.id)).length;
  expect(await steps.begin(run, { workspace_id: ws.id, key: 'gather', position: 1 })).toBeUndefined();
  const end = {
    workspaceId: ws.id,
    event: { step: 'plan', position: 0, cost_usd: 0 },
    audit: [toolCall(ws.id, run.id, 1)],
  };
  expect(await steps.complete(run, 'plan', out('stale'), end)).toBe(false);
  const error = { code: 'aborted', message: 'x' };
  const failed = {
    workspaceId: ws.id,
    event: { step: 'plan', position: 0, error },
    audit: [toolCall(ws.id, run.id, 2)],
  };
  expect(await steps.fail(run, 'plan', error, failed)).toBe(false);
  expect((await events(run.id)).slice(before).map((e) => e.type)).toEqual(['step.failed']);
  expect(await stack.db('audit_logs').where({ agent_run_id: run.id })).toHaveLength(2);
  const step = await stack.db('agent_run_steps').where({ run_id: run.id, key: 'plan' }).first();
  expect(step).toMatchObject({ status: 'running', output: null });
  expect(await stack.db('agent_run_steps').where({ run_id: run.id, key: 'gather' })).toHaveLength(0);
});
