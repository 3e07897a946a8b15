import { randomUUID } from 'node:crypto';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { FLOWS } from '../../services/agent-runner/src/flows/flow-registry';
import type { FlowRuntime } from '../../services/agent-runner/src/flows/flow.types';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { EMPTY_GUARDRAILS } from '@raptorflow/data/runs/flow-inputs';
import { getSettings } from '@raptorflow/core/config/settings';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import { auditedTools } from '../../services/agent-runner/src/tools/council-tools';
import type { ToolContext } from '../../services/agent-runner/src/tools/tool-context';
import { newAgent, newUser, newWorkspace } from './factories';
import { newDispatcher } from './llm';
import { openStack } from './stack';
import { runMemory } from './runner-wiring';
import { FakeStepRunner } from './step-runner.fake';

/**
 * The in-process flow harness (imported by a test file, it opens that file's stack): the real LangGraph graph
 * with a PostgresSaver over the test database, the real ModelDispatcher on the offline local provider, and a
 * StepRunner whose dispatches go through the audited Model Dispatch Tool, so every call leaves a cost row and
 * one `tool.call` audit row, and whose recall and remember go through the runner's RunMemory over the test
 * database (embeddings on the same dispatcher).
 */
export const stack = openStack();
export const checkpointer = PostgresSaver.fromConnString(getSettings().databaseUrl, { schema: 'langgraph' });
export const { dispatcher } = newDispatcher(stack, { LLM_PROVIDER: 'local' });
export const audit = new AuditLogService({ db: stack.db });
export const memory = runMemory(stack, dispatcher);
afterAll(async () => {
  await checkpointer.end();
  await stack.close();
});

const LORDS: Record<FlowName, { key: string; name: string; domain: string }> = {
  research: { key: 'cognition', name: 'Cognition', domain: 'research and knowledge acquisition' },
  muse: { key: 'herald', name: 'Herald', domain: 'communication and messaging' },
  matrix: { key: 'strategos', name: 'Strategos', domain: 'strategic planning and execution' },
  guardian: { key: 'arbiter', name: 'Arbiter', domain: 'rules, compliance, conflict resolution' },
  campaign: { key: 'strategos', name: 'Strategos', domain: 'strategic planning and execution' },
};

export interface Run {
  flow: FlowName;
  ctx: ToolContext;
  agent: FlowRuntime['agent'];
}

/** A workspace, its Lord and a run row (cost rows reference the run). */
export async function newRun(flow: FlowName, input: Record<string, unknown>): Promise<Run> {
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

export function runnerFor(
  run: Run,
  opts: { memo?: Map<string, unknown>; crashAt?: string; signal?: AbortSignal } = {},
) {
  const tools = auditedTools(run.ctx, { dispatcher, bus: stack.bus, audit });
  const actor = {
    workspaceId: run.ctx.workspace_id,
    userId: run.ctx.actor_user_id ?? null,
    agentRunId: run.ctx.agent_run_id!,
    agentKey: run.agent.key,
    correlationId: run.ctx.correlation_id ?? null,
    signal: opts.signal,
  };
  return new FakeStepRunner({
    dispatchTool: tools.modelDispatch,
    model: 'fast',
    memory: { memory, actor },
    ...opts,
  });
}

export async function invoke(
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

/** The run's cost rows, model calls (`costs`) apart from memory's embedding calls (`embeds`), and tool calls. */
export async function trail(run: Run) {
  const rows = await stack
    .db('cost_logs')
    .where({ agent_run_id: run.ctx.agent_run_id })
    .orderBy('created_at');
  const costs = rows.filter((c) => c.alias !== 'embed');
  const embeds = rows.filter((c) => c.alias === 'embed');
  const toolCalls = await stack
    .db('audit_logs')
    .where({ agent_run_id: run.ctx.agent_run_id, action: 'tool.call' })
    .orderBy('created_at');
  return { costs, embeds, toolCalls };
}

/** Every dispatch left one successful cost row and exactly one tool.call row attributed to the Lord. */
export async function expectAudited(run: Run, dispatches: number) {
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

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
