import type {
  AgentRunStepRepository,
  StepBegin,
} from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import { LeaseLostError } from './run-lease.service';
import { StepStarts } from './step-starts';

const TOTALS = { inputTokens: 0, outputTokens: 0, costUsd: '0' };

/** A repository whose begins answer only when the test says so, recording what they were asked. */
function fakeSteps(answer: (key: string, position: number | undefined) => StepBegin<unknown> | undefined) {
  const calls: Array<{ key: string; position: number | undefined; release: () => void }> = [];
  const steps = {
    begin: (_hold: unknown, s: { key: string; position: number | undefined }) =>
      new Promise((resolve) => {
        calls.push({ key: s.key, position: s.position, release: () => resolve(answer(s.key, s.position)) });
      }),
  } as unknown as AgentRunStepRepository;
  return { steps, calls };
}

const run = (attempts: number) => ({ id: 'r1', workspace_id: 'w1', attempts }) as AgentRunRow;
const started = (position: number, nextPosition = position): StepBegin<unknown> => ({
  kind: 'started',
  position,
  attempts: 1,
  nextPosition,
  eventId: 1,
  runTotals: TOTALS,
});

describe('StepStarts on a run’s first claim', () => {
  it('starts each step at once, in order, while its row is still being written', async () => {
    const { steps, calls } = fakeSteps((_k, position) => started(position!));
    const announce = jest.fn();
    const starts = new StepStarts({ steps, events: { announce }, run: run(1) });
    const plan = await starts.start('plan');
    const gather = await starts.start('gather');
    expect(plan).toMatchObject({ kind: 'running', position: 0 });
    expect(gather).toMatchObject({ kind: 'running', position: 1 });
    expect(calls.map((c) => [c.key, c.position])).toEqual([
      ['plan', 0],
      ['gather', 1],
    ]);
    expect(announce).not.toHaveBeenCalled();
    calls[0]!.release();
    if (plan.kind !== 'running') throw new Error('running expected');
    await expect(plan.started).resolves.toMatchObject({ position: 0, runTotals: TOTALS });
    expect(announce).toHaveBeenCalledWith('r1');
  });

  it('keeps a step started again at its place, and answers a completed one from memory', async () => {
    const { steps, calls } = fakeSteps((_k, position) => started(position!));
    const starts = new StepStarts({ steps, events: { announce: () => undefined }, run: run(1) });
    await starts.start('plan');
    await starts.start('plan');
    await starts.start('gather');
    expect(calls.map((c) => [c.key, c.position])).toEqual([
      ['plan', 0],
      ['plan', 0],
      ['gather', 1],
    ]);
    starts.completedWith('plan', { text: 'done' });
    expect(await starts.start('plan')).toEqual({ kind: 'stored', output: { text: 'done' } });
    expect(calls).toHaveLength(3);
  });

  it('rejects the start with LeaseLostError when the claim is gone, never unhandled', async () => {
    const { steps, calls } = fakeSteps(() => undefined);
    const starts = new StepStarts({ steps, events: { announce: () => undefined }, run: run(1) });
    const plan = await starts.start('plan');
    calls[0]!.release();
    if (plan.kind !== 'running') throw new Error('running expected');
    await expect(plan.started).rejects.toBeInstanceOf(LeaseLostError);
  });
});

describe('StepStarts on a later claim', () => {
  it('asks first: a stored output comes back and no step is started', async () => {
    const { steps, calls } = fakeSteps((key) =>
      key === 'plan' ? { kind: 'stored', output: { text: 'stored' } } : started(3, 3),
    );
    const starts = new StepStarts({ steps, events: { announce: () => undefined }, run: run(2) });
    const pending = starts.start('plan');
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    expect(await pending).toEqual({ kind: 'stored', output: { text: 'stored' } });
    const gather = starts.start('gather');
    await new Promise((r) => setImmediate(r));
    calls[1]!.release();
    expect(await gather).toMatchObject({ kind: 'running', position: 3 });
    const next = starts.start('synthesize');
    await new Promise((r) => setImmediate(r));
    // After the run's last step: the position the first begin learnt, one further.
    expect(calls[2]).toMatchObject({ key: 'synthesize', position: 4 });
    calls[2]!.release();
    await next;
  });
});
