import { randomUUID } from 'node:crypto';
import { EMPTY_GUARDRAILS } from '@raptorflow/data/runs/flow-inputs';
import { auditedTools } from '../../services/agent-runner/src/tools/council-tools';
import { callInFlight, newDispatcher } from '../support/llm';
import { abortWhen } from '../support/http';
import { FakeStepRunner, SimulatedCrash } from '../support/step-runner.fake';
import {
  audit,
  checkpointer,
  expectAudited,
  invoke,
  newRun,
  runnerFor,
  stack,
  trail,
  waitFor,
} from '../support/flow-harness';

/** The research and muse flows end to end in-process (see test/support/flow-harness.ts). */
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
    expect(steps.ran).toEqual(['recall', 'plan', 'gather', 'synthesize', 'remember']);
    // A new workspace's memory is empty: nothing recalled, no embedding call for the recall.
    expect(out.recalled).toEqual([]);
    expect(steps.memo.get('recall')).toMatchObject({ skipped: { code: 'memory_empty' } });
    // One item per finding and one for the brief, embedded in one call.
    expect(out.remembered).toHaveLength(out.findings.length + 1);
    const t = await expectAudited(run, 3);
    expect(t.embeds).toHaveLength(1);
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
    expect(third.replayed).toEqual(['recall', 'plan', 'gather', 'synthesize', 'remember']);
    const t = await trail(run);
    expect(t.costs).toHaveLength(3);
    // Remembered once: the resumed attempts found the stored step instead of writing again.
    expect(t.embeds).toHaveLength(1);
    const stored = await stack.db('memory_items').where({ source_run_id: run.ctx.agent_run_id });
    expect(stored.map((r) => r.id).sort()).toEqual([...out.remembered].sort());
  });

  it('stops at once when the run is cancelled, recording the cancelled call', async () => {
    const slow = newDispatcher(stack, {
      LLM_PROVIDER: 'local',
      LOCAL_PROVIDER_LATENCY_MS: '2000',
    }).dispatcher;
    const input = { topic: 'Cancel me', depth: 'quick' };
    const run = await newRun('research', input);
    // Aborted once the call is in flight (its budget reservation is taken), not after a guessed delay.
    const controller = abortWhen(() => callInFlight(stack.db, run.ctx.workspace_id));
    const tools = auditedTools(run.ctx, { dispatcher: slow, bus: stack.bus, audit });
    const steps = new FakeStepRunner({
      dispatchTool: tools.modelDispatch,
      model: 'fast',
      signal: controller.signal,
    });
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
    expect(steps.ran).toEqual(['recall', 'draft', 'guardian', 'final_guardian']);
    expect(out.recalled).toEqual([]);
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
