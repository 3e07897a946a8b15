import { randomUUID } from 'node:crypto';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { FLOWS } from '../../services/agent-runner/src/flows/flow-registry';
import type { FlowRuntime } from '../../services/agent-runner/src/flows/flow.types';
import { AuditLogService, EMPTY_GUARDRAILS, getSettings } from '../../shared/src';
import type { FlowName, GuardrailRules } from '../../shared/src';
import { auditedTools } from '../../shared/src/tools';
import type { ToolContext } from '../../shared/src/tools';
import { newAgent, newUser, newWorkspace } from '../support/factories';
import { newDispatcher } from '../support/llm';
import { openStack } from '../support/stack';
import { FakeStepRunner, SimulatedCrash } from '../support/step-runner.fake';

/**
 * Each Lord's flow end to end in-process: the real LangGraph graph with a PostgresSaver over the test
 * database, the real ModelDispatcher on the offline local provider, and a StepRunner whose dispatches go
 * through the audited Model Dispatch Tool, so every call leaves a cost row and one `tool.call` audit row.
 */
const stack = openStack();
const checkpointer = PostgresSaver.fromConnString(getSettings().databaseUrl, { schema: 'langgraph' });
const { dispatcher } = newDispatcher(stack, { LLM_PROVIDER: 'local' });
const audit = new AuditLogService({ db: stack.db });
afterAll(async () => {
  await checkpointer.end();
  await stack.close();
});

const LORDS: Record<FlowName, { key: string; name: string; domain: string }> = {
  research: { key: 'cognition', name: 'Cognition', domain: 'research and knowledge acquisition' },
  muse: { key: 'herald', name: 'Herald', domain: 'communication and messaging' },
  matrix: { key: 'strategos', name: 'Strategos', domain: 'strategic planning and execution' },
  guardian: { key: 'arbiter', name: 'Arbiter', domain: 'rules, compliance, conflict resolution' },
};

interface Run {
  flow: FlowName;
  ctx: ToolContext;
  agent: FlowRuntime['agent'];
}

/** A workspace, its Lord and a run row (cost rows reference the run). */
async function newRun(flow: FlowName, input: Record<string, unknown>): Promise<Run> {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const lord = LORDS[flow];
  const agent = await newAgent(stack.db, ws.id, { ...lord, default_flow: flow });
  const correlationId = `corr-${randomUUID()}`;
  const [run] = await stack
    .db('agent_runs')
    .insert({
      workspace_id: ws.id,
      agent_id: agent.id,
      agent_key: lord.key,
      flow,
      model: 'fast',
      status: 'running',
      input: JSON.stringify(input),
      requested_by: owner.id,
      correlation_id: correlationId,
    })
    .returning<Array<{ id: string }>>('id');
  return {
    flow,
    agent: lord,
    ctx: {
      workspace_id: ws.id,
      actor_user_id: owner.id,
      agent_id: agent.id,
      agent_run_id: run!.id,
      correlation_id: correlationId,
    },
  };
}

function runnerFor(
  run: Run,
  opts: { memo?: Map<string, unknown>; crashAt?: string; signal?: AbortSignal } = {},
) {
  const tools = auditedTools(run.ctx, { dispatcher, audit });
  return new FakeStepRunner({ dispatchTool: tools.modelDispatch, model: 'fast', ...opts });
}

async function invoke(
  run: Run,
  input: Record<string, unknown> | null,
  steps: FakeStepRunner,
  opts: { guardrails?: GuardrailRules; threadId?: string; signal?: AbortSignal } = {},
) {
  const flow = FLOWS[run.flow];
  const signal = opts.signal ?? new AbortController().signal;
  const runtime: FlowRuntime = {
    steps,
    guardrails: opts.guardrails ?? EMPTY_GUARDRAILS,
    model: 'fast',
    agent: run.agent,
    signal,
  };
  const state = await flow
    .compile(checkpointer)
    .invoke(input, { configurable: { thread_id: opts.threadId ?? run.ctx.agent_run_id!, runtime }, signal });
  return flow.output(state);
}

async function trail(run: Run) {
  const costs = await stack
    .db('cost_logs')
    .where({ agent_run_id: run.ctx.agent_run_id })
    .orderBy('created_at');
  const toolCalls = await stack
    .db('audit_logs')
    .where({ agent_run_id: run.ctx.agent_run_id, action: 'tool.call' })
    .orderBy('created_at');
  return { costs, toolCalls };
}

/** Every dispatch left one successful cost row and exactly one tool.call row attributed to the Lord. */
async function expectAudited(run: Run, dispatches: number) {
  const t = await trail(run);
  expect(t.costs).toHaveLength(dispatches);
  for (const c of t.costs) {
    expect(c).toMatchObject({ outcome: 'success', workspace_id: run.ctx.workspace_id, provider: 'local' });
    expect(Number(c.cost_usd)).toBeGreaterThan(0);
  }
  expect(t.toolCalls).toHaveLength(dispatches);
  for (const a of t.toolCalls) {
    expect(a).toMatchObject({
      tool_name: 'model_dispatch',
      actor_type: 'agent',
      actor_id: run.ctx.agent_id,
      workspace_id: run.ctx.workspace_id,
      correlation_id: run.ctx.correlation_id,
    });
    expect(a.metadata).toMatchObject({ outcome: 'success', duration_ms: expect.any(Number) });
    expect(a.input).toMatchObject({ model: 'fast', prompt: expect.any(String) });
    expect(a.output).toMatchObject({
      text: expect.any(String),
      provider: 'local',
      cost_usd: expect.any(Number),
    });
  }
  return t;
}

describe('research', () => {
  it('plans the questions its depth asks for, gathers a finding per question and writes a brief', async () => {
    const input = { topic: 'Oat milk for gym-goers', audience: 'Urban gym members', depth: 'quick' };
    const run = await newRun('research', input);
    const steps = runnerFor(run);
    const out = (await invoke(run, input, steps)) as any;

    expect(out).toMatchObject({ topic: input.topic, audience: input.audience, depth: 'quick' });
    expect(out.questions.length).toBeGreaterThanOrEqual(1);
    expect(out.questions.length).toBeLessThanOrEqual(3);
    expect(out.findings).toHaveLength(out.questions.length);
    out.findings.forEach((f: any, i: number) => {
      expect(f.question).toBe(out.questions[i]);
      expect(f.finding.length).toBeGreaterThan(0);
    });
    expect(out.brief.summary.length).toBeGreaterThan(0);
    expect(out.brief.key_points.length).toBeGreaterThan(0);
    expect(Array.isArray(out.brief.next_steps)).toBe(true);
    expect(steps.dispatched).toEqual(['plan', 'gather', 'synthesize']);
    await expectAudited(run, 3);
  });

  it('resumes after a crash in synthesize without paying for plan or gather again', async () => {
    const input = { topic: 'Refill stations for shampoo', depth: 'standard' };
    const run = await newRun('research', input);
    const memo = new Map<string, unknown>();

    const first = runnerFor(run, { memo, crashAt: 'synthesize' });
    await expect(invoke(run, input, first)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(first.dispatched).toEqual(['plan', 'gather']);
    expect((await trail(run)).costs).toHaveLength(2);
    const saved = await checkpointer.getTuple({ configurable: { thread_id: run.ctx.agent_run_id } });
    expect(saved?.checkpoint.channel_values).toMatchObject({
      questions: expect.any(Array),
      findings: expect.any(Array),
    });

    // The runner restarts: same thread, null input, the step records of the first attempt.
    const second = runnerFor(run, { memo });
    const out = (await invoke(run, null, second)) as any;
    expect(second.dispatched).toEqual(['synthesize']);
    expect(out.topic).toBe(input.topic);
    expect(out.questions.length).toBeLessThanOrEqual(5);
    expect(out.brief.key_points.length).toBeGreaterThan(0);
    await expectAudited(run, 3);

    // Had the checkpoint been lost too, the step records alone would still prevent paying twice.
    const third = runnerFor(run, { memo });
    expect(await invoke(run, input, third, { threadId: randomUUID() })).toEqual(out);
    expect(third.dispatched).toEqual([]);
    expect(third.replayed).toEqual(['plan', 'gather', 'synthesize']);
    expect((await trail(run)).costs).toHaveLength(3);
  });

  it('stops at once when the run is cancelled, recording the cancelled call', async () => {
    const slow = newDispatcher(stack, {
      LLM_PROVIDER: 'local',
      LOCAL_PROVIDER_LATENCY_MS: '2000',
    }).dispatcher;
    const input = { topic: 'Cancel me', depth: 'quick' };
    const run = await newRun('research', input);
    const controller = new AbortController();
    const tools = auditedTools(run.ctx, { dispatcher: slow, audit });
    const steps = new FakeStepRunner({
      dispatchTool: tools.modelDispatch,
      model: 'fast',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(invoke(run, input, steps, { signal: controller.signal })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_500);

    // The dispatcher settles the cancelled call just after LangGraph has given up on the node.
    await waitFor(async () => (await trail(run)).toolCalls.length === 1);
    const t = await trail(run);
    expect(t.costs.map((c) => c.outcome)).toEqual(['cancelled']);
    expect(t.toolCalls[0].metadata).toMatchObject({ outcome: 'error', error_code: 'cancelled' });
  });
});

describe('muse', () => {
  const input = {
    brief: 'Launch our spring sale on running shoes, 20% off',
    channel: 'email',
    tone: 'upbeat',
  };

  it('keeps a draft that passes the guardrails, with no revision', async () => {
    const run = await newRun('muse', input);
    const steps = runnerFor(run);
    const out = (await invoke(run, input, steps)) as any;
    expect(out).toMatchObject({
      channel: 'email',
      guardian: { verdict: 'pass', violations: [] },
      revised: null,
      final: { verdict: 'pass', violations: [] },
    });
    expect(out.draft.length).toBeGreaterThan(0);
    expect(out.final.content).toBe(out.draft);
    expect(steps.ran).toEqual(['draft', 'guardian', 'final_guardian']);
    await expectAudited(run, 1);
  });

  it('revises a flagged draft once and appends a disclaimer the model left out', async () => {
    const run = await newRun('muse', input);
    const guardrails = { ...EMPTY_GUARDRAILS, required_disclaimers: ['Terms and conditions apply.'] };
    const steps = runnerFor(run);
    const out = (await invoke(run, input, steps, { guardrails })) as any;
    expect(out.guardian).toEqual({
      verdict: 'fail',
      violations: [{ kind: 'missing_disclaimer', text: 'Terms and conditions apply.' }],
    });
    expect(out.revised).toMatch(/Terms and conditions apply\.$/);
    expect(out.final).toEqual({ content: out.revised, verdict: 'pass', violations: [] });
    expect(steps.dispatched).toEqual(['draft', 'revise']);
    await expectAudited(run, 2);
    // The revision prompt told the model exactly what to fix.
    const prompts = (await trail(run)).toolCalls.map((a) => a.input.prompt as string);
    expect(prompts.find((p) => p.startsWith('Revise'))).toContain(
      'Add this disclaimer word for word: "Terms and conditions apply."',
    );
  });

  it('reports what still fails after the one revision', async () => {
    const run = await newRun('muse', input);
    // The local provider writes "Focus the …" in every answer, so no revision can remove it.
    const guardrails = { ...EMPTY_GUARDRAILS, banned_phrases: ['focus the'] };
    const out = (await invoke(run, input, runnerFor(run), { guardrails })) as any;
    expect(out.guardian.verdict).toBe('fail');
    expect(out.revised).toEqual(expect.any(String));
    expect(out.final).toMatchObject({
      verdict: 'fail',
      violations: [{ kind: 'banned_phrase', text: 'focus the' }],
    });
    await expectAudited(run, 2);
  });
});

describe('matrix', () => {
  it('plans phases, lists tasks within the horizon and checks them', async () => {
    const input = { objective: 'Double newsletter signups', budget_usd: 5_000, horizon_weeks: 4 };
    const run = await newRun('matrix', input);
    const steps = runnerFor(run);
    const out = (await invoke(run, input, steps)) as any;
    expect(out).toMatchObject({ objective: input.objective, horizon_weeks: 4, budget_usd: 5_000 });
    expect(out.plan.summary.length).toBeGreaterThan(0);
    expect(out.plan.phases.length).toBeGreaterThan(0);
    expect(out.tasks.length).toBeGreaterThan(0);
    for (const t of out.tasks) {
      expect(t.week).toBeGreaterThanOrEqual(1);
      expect(t.week).toBeLessThanOrEqual(4);
      expect(t.task.length).toBeGreaterThan(0);
    }
    const weeks = out.tasks.map((t: any) => t.week);
    expect(weeks).toEqual([...weeks].sort((a, b) => a - b));
    expect(out.guardian).toEqual({ verdict: 'pass', violations: [] });
    expect(steps.ran).toEqual(['plan', 'tasks', 'guardian']);
    await expectAudited(run, 2);
  });

  it('applies the input defaults (4 weeks, no budget), flags a banned claim, not a disclaimer', async () => {
    const input = { objective: 'Win back lapsed customers' };
    const run = await newRun('matrix', input);
    const guardrails = {
      ...EMPTY_GUARDRAILS,
      banned_claims: ['that matters most'],
      required_disclaimers: ['Terms and conditions apply.'],
    };
    const out = (await invoke(run, input, runnerFor(run), { guardrails })) as any;
    expect(out).toMatchObject({ horizon_weeks: 4, budget_usd: null });
    expect(out.guardian).toEqual({
      verdict: 'fail',
      violations: [{ kind: 'banned_claim', text: 'that matters most' }],
    });
  });
});

describe('guardian', () => {
  it('checks content against the rules without calling a model', async () => {
    const input = { content: 'Guaranteed   RESULTS in a week!' };
    const run = await newRun('guardian', input);
    const guardrails = {
      banned_phrases: ['guaranteed results'],
      banned_claims: [],
      required_disclaimers: ['Results vary.'],
    };
    const steps = runnerFor(run);
    expect(await invoke(run, input, steps, { guardrails })).toEqual({
      verdict: 'fail',
      violations: [
        { kind: 'banned_phrase', text: 'guaranteed results' },
        { kind: 'missing_disclaimer', text: 'Results vary.' },
      ],
    });
    expect(steps.ran).toEqual(['guardian']);
    await expectAudited(run, 0);
  });

  it('refuses input the flow schema rejects', async () => {
    const run = await newRun('guardian', {});
    await expect(invoke(run, { content: '' }, runnerFor(run))).rejects.toThrow(/must not be empty/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
