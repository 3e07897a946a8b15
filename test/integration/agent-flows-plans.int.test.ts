import { EMPTY_GUARDRAILS } from '@raptorflow/data/runs/flow-inputs';
import { expectAudited, invoke, newRun, runnerFor } from '../support/flow-harness';

/** The matrix and guardian flows end to end in-process (see test/support/flow-harness.ts). */
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
      citations: [],
    });
    expect(steps.ran).toEqual(['guardian']);
    // No decision on record: nothing to cite, and no embedding call either.
    expect(steps.memo.get('guardian')).toMatchObject({ citations_skipped: { code: 'memory_empty' } });
    const t = await expectAudited(run, 0);
    expect(t.embeds).toHaveLength(0);
  });

  it('refuses input the flow schema rejects', async () => {
    const run = await newRun('guardian', {});
    await expect(invoke(run, { content: '' }, runnerFor(run))).rejects.toThrow(/must not be empty/);
  });
});
