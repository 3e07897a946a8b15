import { serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { lordsWorkspace, runsClient } from '../../support/agent-runs';
import { openSse } from '../../support/sse';
import { client } from '../../support/http';

/**
 * Each flow end to end through the API, with the gateway and the agent-runner as real processes on the
 * offline `local` provider: output shape, cost rows, one `tool.call` audit row per tool call, the status
 * transitions, and the live SSE stream of a run (plus a reconnect with Last-Event-ID).
 */
const { stack, services } = useServices();
let gateway: RunningService;

beforeAll(async () => {
  const env = serviceEnv({ LLM_PROVIDER: 'local' });
  [gateway] = await Promise.all([services.start('gateway', env), services.start('agent-runner', env)]);
}, 60_000);

async function trail(runId: string) {
  const costs = await stack.db('cost_logs').where({ agent_run_id: runId });
  const toolCalls = await stack.db('audit_logs').where({ agent_run_id: runId, action: 'tool.call' });
  const events = await stack.db('agent_run_events').where({ run_id: runId }).orderBy('id');
  return { costs, toolCalls, events };
}

const statuses = (events: Array<{ type: string; data: { status?: string } }>) =>
  events.filter((e) => e.type === 'status').map((e) => e.data.status);

it('research: recall → plan → gather → synthesize → remember, streamed live over SSE, replayable with Last-Event-ID', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create({
    agent: 'cognition',
    input: { topic: 'oat milk for runners', audience: 'marathoners' },
  });
  const url = `${gateway.url}/v1/agent-runs/${id}/events`;
  const headers = { 'x-workspace-id': ws.id };
  const stream = await openSse(url, { token: owner.token, headers });
  expect(stream.status).toBe(200);
  // The stored events; the live-only step.delta frames (streamed model text) are checked in agent-runs-answers.
  const events = (await stream.ended(30_000)).filter((e) => e.event !== 'step.delta');

  const run = await runs.get(id);
  expect(run).toMatchObject({ status: 'completed', agent: 'cognition', model: 'standard', error: null });
  expect(run.output).toMatchObject({
    topic: 'oat milk for runners',
    questions: expect.any(Array),
    findings: expect.any(Array),
    brief: { summary: expect.any(String), key_points: expect.any(Array) },
  });
  expect(run.output.questions.length).toBeGreaterThanOrEqual(3);
  expect(run.steps.map((s: { key: string }) => s.key)).toEqual([
    'recall',
    'plan',
    'gather',
    'synthesize',
    'remember',
  ]);
  expect(run.output.recalled).toEqual([]);
  expect(run.output.remembered).toHaveLength(run.output.findings.length + 1);
  const t = await trail(id);
  // Three model calls, and the embedding of what `remember` stored (an empty memory is not searched).
  expect(t.costs.map((c) => (c.alias === 'embed' ? 'embed' : 'model'))).toEqual([
    'model',
    'model',
    'model',
    'embed',
  ]);
  expect(t.toolCalls).toHaveLength(3);
  expect(t.toolCalls.every((a) => a.tool_name === 'model_dispatch' && a.actor_type === 'agent')).toBe(true);
  expect(run.cost_usd).toBeCloseTo(
    t.costs.reduce((s, c) => s + Number(c.cost_usd), 0),
    9,
  );
  expect(run.input_tokens).toBeGreaterThan(0);

  // The stream: queued → running → each step started and completed (with cost so far) → completed.
  expect(events.map((e) => e.event)).toEqual([
    'status',
    'status',
    ...Array.from({ length: 5 }, () => ['step.started', 'step.completed']).flat(),
    'status',
  ]);
  expect(events.filter((e) => e.event === 'status').map((e) => e.data.status)).toEqual([
    'queued',
    'running',
    'completed',
  ]);
  expect(events.at(-2)!.data).toMatchObject({ step: 'remember', run_cost_usd: run.cost_usd });
  expect(statuses(t.events)).toEqual(['queued', 'running', 'completed']);

  // A client that saw only the first three events gets exactly the rest.
  const resumed = await openSse(url, {
    token: owner.token,
    headers: { ...headers, 'last-event-id': events[2]!.id! },
  });
  const rest = await resumed.ended(10_000);
  expect(rest.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id));
}, 60_000);

it('muse: a draft missing a required disclaimer is revised once and passes', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  await stack.db('workspace_guardrails').insert({
    workspace_id: ws.id,
    rules: JSON.stringify({ banned_phrases: [], banned_claims: [], required_disclaimers: ['Terms apply.'] }),
  });
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create({
    agent: 'herald',
    input: { brief: 'Spring sale, 20% off', channel: 'email' },
  });
  const run = await runs.until(id, ['completed', 'failed']);
  expect(run.status).toBe('completed');
  expect(run.output).toMatchObject({
    channel: 'email',
    draft: expect.any(String),
    guardian: { verdict: 'fail' },
    revised: expect.stringContaining('Terms apply.'),
    final: { verdict: 'pass', violations: [] },
  });
  const t = await trail(id);
  expect(t.costs).toHaveLength(2); // draft and revise; the guardian checks are rules, not model calls
  expect(t.toolCalls).toHaveLength(2);
});

it('matrix: objective → plan → tasks → guardian', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create({
    agent: 'strategos',
    input: { objective: 'Launch in Lisbon', horizon_weeks: 6 },
  });
  const run = await runs.until(id, ['completed', 'failed']);
  expect(run.status).toBe('completed');
  expect(run.output).toMatchObject({
    objective: 'Launch in Lisbon',
    horizon_weeks: 6,
    plan: { summary: expect.any(String), phases: expect.any(Array) },
    tasks: expect.any(Array),
    guardian: { verdict: 'pass' },
  });
  expect(run.output.tasks[0]).toEqual({ week: expect.any(Number), task: expect.any(String) });
  expect((await trail(id)).costs).toHaveLength(2);
});

it('guardian: the Arbiter flags banned claims and missing disclaimers, with no model call', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  await stack.db('workspace_guardrails').insert({
    workspace_id: ws.id,
    rules: JSON.stringify({
      banned_phrases: ['miracle'],
      banned_claims: ['guaranteed results'],
      required_disclaimers: ['Results vary.'],
    }),
  });
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create({
    agent: 'arbiter',
    input: { content: 'A MIRACLE cream with Guaranteed  results!' },
  });
  // Flagged content waits for a human (issue 18): approved, the run completes with the Arbiter's verdict.
  const waiting = await runs.until(id, ['awaiting_approval', 'completed', 'failed']);
  expect(waiting.status).toBe('awaiting_approval');
  const decided = await client(gateway.url, owner.token).post(
    `/v1/agent-runs/${id}/approval`,
    { decision: 'approve' },
    { headers: { 'x-workspace-id': ws.id } },
  );
  expect(decided.status).toBe(200);
  const run = await runs.until(id, ['completed', 'failed']);
  expect(run.status).toBe('completed');
  expect(run.output.verdict).toBe('fail');
  expect(run.output.approval).toMatchObject({ decision: 'approve', decided_by: owner.id });
  expect(run.output.violations.map((v: { kind: string }) => v.kind).sort()).toEqual([
    'banned_claim',
    'banned_phrase',
    'missing_disclaimer',
  ]);
  expect(run.cost_usd).toBe(0);
  expect((await trail(id)).costs).toHaveLength(0);
});
