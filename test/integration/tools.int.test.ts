import { randomUUID } from 'node:crypto';
import { tool } from '@langchain/core/tools';
import { ToolMessage } from '@langchain/core/messages';
import { z } from 'zod';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import {
  BudgetExceededError,
  CancelledError,
  ConflictError,
  ValidationFailedError,
} from '@raptorflow/core/errors/app-error';
import { AUDIT_STRING_LIMIT, withAudit } from '../../services/agent-runner/src/tools/audited-tool';
import { createBusPublishTool } from '../../services/agent-runner/src/tools/bus-publish.tool';
import { auditedTools } from '../../services/agent-runner/src/tools/council-tools';
import { createModelDispatchTool } from '../../services/agent-runner/src/tools/model-dispatch.tool';
import type { ToolContext } from '../../services/agent-runner/src/tools/tool-context';
import { newAgent, newUser, newWorkspace } from '../support/factories';
import { callInFlight, newDispatcher } from '../support/llm';
import { abortWhen } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The Council's tools over real PostgreSQL and Redis: the Bus Publish Tool's outbox rows, and the audit
 * wrapper's one `tool.call` row per invocation, whatever the outcome, with the original error rethrown.
 */
const stack = openStack();
const audit = new AuditLogService({ db: stack.db });
const local = newDispatcher(stack, { LLM_PROVIDER: 'local' }).dispatcher;
afterAll(() => stack.close());

async function context(): Promise<ToolContext> {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  return { workspace_id: ws.id, actor_user_id: owner.id, correlation_id: `corr-${randomUUID()}` };
}

const toolCalls = (ctx: ToolContext) =>
  stack.db('audit_logs').where({ workspace_id: ctx.workspace_id, action: 'tool.call' }).orderBy('created_at');

describe('Bus Publish Tool', () => {
  it("publishes a catalog event with the context's workspace, correlation and actor", async () => {
    const ctx = await context();
    const busPublish = createBusPublishTool(ctx, { bus: stack.bus });
    const out = await busPublish.invoke({ event_type: 'test.event', payload: { message: 'hello' } });
    expect(out).toEqual({ event_id: expect.any(String) });

    const row = await stack.db('event_outbox').where({ id: out.event_id }).first();
    expect(row).toMatchObject({ event_type: 'test.event', queue: 'system', workspace_id: ctx.workspace_id });
    expect(row.envelope).toMatchObject({
      event_id: out.event_id,
      workspace_id: ctx.workspace_id,
      correlation_id: ctx.correlation_id,
      actor_user_id: ctx.actor_user_id,
      payload: { message: 'hello' },
    });
  });

  it('refuses an event type that is not in the catalog, and a payload its schema rejects', async () => {
    const ctx = await context();
    const busPublish = createBusPublishTool(ctx, { bus: stack.bus });
    await expect(busPublish.invoke({ event_type: 'made.up', payload: {} })).rejects.toBeInstanceOf(
      ValidationFailedError,
    );
    await expect(
      busPublish.invoke({ event_type: 'cost.recorded', payload: { cost_log_id: 'nope' } }),
    ).rejects.toBeInstanceOf(ValidationFailedError);
    expect(await stack.db('event_outbox').where({ workspace_id: ctx.workspace_id })).toHaveLength(0);
  });
});

describe('audit wrapper', () => {
  it('keeps the name, description and schema, and writes one success row per call', async () => {
    const ctx = await context();
    const inner = createBusPublishTool(ctx, { bus: stack.bus });
    const audited = withAudit(inner, ctx, { audit });
    expect(audited.name).toBe('bus_publish');
    expect(audited.description).toBe(inner.description);
    expect(audited.schema).toBe(inner.schema);

    const out = await audited.invoke({ event_type: 'test.event', payload: { message: 'one' } });
    const rows = await toolCalls(ctx);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tool_name: 'bus_publish',
      actor_type: 'user',
      actor_id: ctx.actor_user_id,
      correlation_id: ctx.correlation_id,
      agent_run_id: null,
      input: { event_type: 'test.event', payload: { message: 'one' } },
      output: { event_id: out.event_id },
      metadata: { outcome: 'success', duration_ms: expect.any(Number) },
    });
    expect(rows[0].metadata.error_code).toBeUndefined();
  });

  it('records an error row and rethrows the original error when the tool throws', async () => {
    const ctx = await context();
    const { busPublish } = auditedTools(ctx, { dispatcher: local, bus: stack.bus, audit });
    const err = await busPublish.invoke({ event_type: 'made.up', payload: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailedError);
    const rows = await toolCalls(ctx);
    expect(rows).toHaveLength(1);
    expect(rows[0].output).toBeNull();
    expect(rows[0].metadata).toMatchObject({ outcome: 'error', error_code: 'validation_failed' });
  });

  it('passes BudgetExceededError from the Model Dispatch Tool through as is', async () => {
    const ctx = await context();
    const broke = newDispatcher(stack, { LLM_PROVIDER: 'local' }, { defaultBudgetUsd: 0 }).dispatcher;
    const { modelDispatch } = auditedTools(ctx, { dispatcher: broke, bus: stack.bus, audit });
    const err = await modelDispatch
      .invoke({ model: 'fast', prompt: 'Three taglines' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).code).toBe('budget_exceeded');
    const rows = await toolCalls(ctx);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tool_name: 'model_dispatch',
      input: { model: 'fast', prompt: 'Three taglines' },
      output: null,
      metadata: { outcome: 'error', error_code: 'budget_exceeded', duration_ms: expect.any(Number) },
    });
  });

  it('returns the dispatch result and attributes a run call to the agent', async () => {
    const base = await context();
    const agent = await newAgent(stack.db, base.workspace_id);
    // Budget reservations and cost rows reference the run.
    const [run] = await stack
      .db('agent_runs')
      .insert({
        workspace_id: base.workspace_id,
        agent_id: agent.id,
        agent_key: agent.key,
        flow: 'research',
        model: 'fast',
        status: 'running',
        input: '{}',
      })
      .returning<Array<{ id: string }>>('id');
    const agentId = agent.id;
    const ctx = { ...base, agent_id: agentId, agent_run_id: run!.id };
    const { modelDispatch } = auditedTools(ctx, { dispatcher: local, bus: stack.bus, audit });
    const out = await modelDispatch.invoke({ model: 'fast', prompt: 'Name a bakery', max_tokens: 200 });
    expect(out).toMatchObject({
      text: expect.stringContaining('Name a bakery'),
      model: 'gemini-3.8-flash',
      provider: 'local',
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
      cost_usd: expect.any(Number),
      cost_log_id: expect.any(String),
    });
    const [row] = await toolCalls(ctx);
    expect(row).toMatchObject({ actor_type: 'agent', actor_id: agentId, agent_run_id: ctx.agent_run_id });
    expect(row.output).toEqual(out);
    const cost = await stack.db('cost_logs').where({ id: out.cost_log_id }).first();
    expect(cost).toMatchObject({ workspace_id: ctx.workspace_id, correlation_id: ctx.correlation_id });
  });

  it('scrubs secrets and truncates long strings in the audit row only', async () => {
    const ctx = await context();
    const { modelDispatch } = auditedTools(ctx, { dispatcher: local, bus: stack.bus, audit });
    const prompt = `Use Bearer abc.def.ghi to post. ${'x'.repeat(AUDIT_STRING_LIMIT + 500)}`;
    const out = await modelDispatch.invoke({ model: 'fast', prompt, max_tokens: 100 });
    expect(out.text).toContain('Bearer abc.def.ghi');
    const [row] = await toolCalls(ctx);
    expect(row.input.prompt).toMatch(/^Use Bearer \[redacted\] to post\. x+…\[truncated \d+ characters\]$/);
    expect(row.input.prompt.length).toBeLessThan(AUDIT_STRING_LIMIT + 50);
    expect(row.output.text).not.toContain('abc.def.ghi');
  });

  it('records a call refused by the schema, and one made as a tool call (ToolMessage out)', async () => {
    const ctx = await context();
    const { modelDispatch } = auditedTools(ctx, { dispatcher: local, bus: stack.bus, audit });
    await expect(modelDispatch.invoke({ model: 'fast' } as never)).rejects.toThrow(
      /did not match expected schema/,
    );
    const msg = await modelDispatch.invoke({
      type: 'tool_call',
      id: 'call-1',
      name: 'model_dispatch',
      args: { model: 'fast', prompt: 'Hi' },
    });
    expect(msg).toBeInstanceOf(ToolMessage);
    expect(JSON.parse(msg.content as string)).toMatchObject({ provider: 'local' });
    const rows = await toolCalls(ctx);
    expect(rows).toHaveLength(2);
    const refused = rows.find((r) => r.metadata.outcome === 'error');
    const called = rows.find((r) => r.metadata.outcome === 'success');
    expect(refused.metadata.error_code).toBe('invalid_tool_input');
    expect(called.output).toMatchObject({ provider: 'local', text: expect.any(String) });
  });

  it('surfaces CancelledError (not an AbortError) when the call is aborted mid-flight', async () => {
    const ctx = await context();
    const slow = newDispatcher(stack, {
      LLM_PROVIDER: 'local',
      LOCAL_PROVIDER_LATENCY_MS: '2000',
    }).dispatcher;
    const { modelDispatch } = auditedTools(ctx, { dispatcher: slow, bus: stack.bus, audit });
    // Aborted once the call is in flight (its budget reservation is taken), not after a guessed delay.
    const controller = abortWhen(() => callInFlight(stack.db, ctx.workspace_id));
    const started = Date.now();
    const err = await modelDispatch
      .invoke({ model: 'fast', prompt: 'Slow one' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1_500);
    const rows = await toolCalls(ctx);
    expect(rows[0].metadata).toMatchObject({ outcome: 'error', error_code: 'cancelled' });
    const costs = await stack.db('cost_logs').where({ workspace_id: ctx.workspace_id });
    expect(costs.map((c) => c.outcome)).toEqual(['cancelled']);
  });

  it("wraps any LangChain tool, and @langchain/core's tool() rethrows the original error", async () => {
    const ctx = await context();
    const conflict = new ConflictError('already there');
    const failing = tool(
      async () => {
        throw conflict;
      },
      { name: 'failing', description: 'always fails', schema: z.object({ n: z.number() }) },
    );
    const audited = withAudit(failing, ctx, { audit });
    await expect(audited.invoke({ n: 1 })).rejects.toBe(conflict);
    const [row] = await toolCalls(ctx);
    expect(row).toMatchObject({ tool_name: 'failing', input: { n: 1 } });
    expect(row.metadata).toMatchObject({ outcome: 'error', error_code: 'conflict' });
  });

  it('gives both tools, each audited, for one context', () => {
    const tools = auditedTools({ workspace_id: randomUUID() }, { dispatcher: local, bus: stack.bus, audit });
    expect(Object.values(tools).map((t) => t.name)).toEqual(['model_dispatch', 'bus_publish']);
    // Unused here: the dispatch tool factory works without the wrapper too.
    expect(createModelDispatchTool({ workspace_id: randomUUID() }, { dispatcher: local }).name).toBe(
      'model_dispatch',
    );
  });
});
