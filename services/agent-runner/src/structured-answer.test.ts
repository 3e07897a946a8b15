import { z } from 'zod';
import { InvalidModelAnswerError } from '@raptorflow/core/errors/app-error';
import { DeltaCoalescer } from './delta-coalescer';
import { askForAnswer, issuePath } from './structured-answer';
import type { CallModel } from './structured-answer';
import type { ModelDispatchInput } from './tools/model-dispatch.tool';

const Tasks = z.object({
  tasks: z.array(z.object({ week: z.number().int().max(4), task: z.string() })).min(1),
});
const req = { prompt: 'Plan it', schema: Tasks, schemaName: 'campaign_tasks' };

/** A model that answers `texts` in turn, recording what it was asked. */
function model(...texts: string[]): { call: CallModel; inputs: ModelDispatchInput[] } {
  const inputs: ModelDispatchInput[] = [];
  const call: CallModel = async (input) => {
    inputs.push(input);
    return { text: texts[inputs.length - 1]!, model: 'm', costUsd: 0.5 };
  };
  return { call, inputs };
}

describe('askForAnswer', () => {
  it('sends the schema as JSON Schema and returns the validated answer', async () => {
    const m = model('{"tasks":[{"week":2,"task":"Draft"}]}');
    const r = await askForAnswer(req, 'fast', m.call);
    expect(r).toMatchObject({
      answer: { tasks: [{ week: 2, task: 'Draft' }] },
      repaired: false,
      costUsd: 0.5,
    });
    expect(m.inputs[0]!.response_schema).toMatchObject({
      name: 'campaign_tasks',
      schema: { type: 'object' },
    });
    expect(m.inputs[0]!.response_schema!.schema).not.toHaveProperty('$schema');
  });

  it('repairs once with the answer and its errors by path, and counts both calls', async () => {
    const m = model('{"tasks":[{"week":9,"task":"Draft"}]}', '{"tasks":[{"week":3,"task":"Draft"}]}');
    const r = await askForAnswer(req, 'fast', m.call);
    expect(r).toMatchObject({ answer: { tasks: [{ week: 3 }] }, repaired: true, costUsd: 1 });
    expect(m.inputs[1]!.history).toEqual([
      { role: 'user', content: 'Plan it' },
      { role: 'assistant', content: '{"tasks":[{"week":9,"task":"Draft"}]}' },
    ]);
    expect(m.inputs[1]!.prompt).toContain('- at tasks[0].week: Too big');
  });

  it('fails with invalid_model_answer naming the path when the repair is wrong too', async () => {
    const m = model('not json', '{"tasks":[]}');
    const err = await askForAnswer(req, 'fast', m.call).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidModelAnswerError);
    expect(err).toMatchObject({
      code: 'invalid_model_answer',
      details: { schema: 'campaign_tasks', path: 'tasks' },
    });
    expect(m.inputs[1]!.prompt).toContain('- at (root): the answer is not JSON');
    expect(m.inputs).toHaveLength(2);
  });

  it('names paths the way zod prints them', () => {
    expect(issuePath([])).toBe('(root)');
    expect(issuePath(['tasks', 0, 'week'])).toBe('tasks[0].week');
  });
});

describe('DeltaCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends at most one delta per 50 ms, the last one too, and nothing once cancelled', async () => {
    const sent: Array<[number, string]> = [];
    const c = new DeltaCoalescer((text) => sent.push([Date.now(), text]));
    c.push('a');
    c.push('b');
    jest.advanceTimersByTime(0);
    c.push('c');
    jest.advanceTimersByTime(20);
    c.push('d');
    jest.advanceTimersByTime(30);
    c.push('e');
    const done = c.finish();
    await jest.advanceTimersByTimeAsync(50);
    await done;
    expect(sent.map(([, t]) => t)).toEqual(['ab', 'cd', 'e']);
    for (let i = 1; i < sent.length; i++) expect(sent[i]![0] - sent[i - 1]![0]).toBeGreaterThanOrEqual(50);
    c.push('f');
    c.cancel();
    jest.advanceTimersByTime(100);
    expect(sent).toHaveLength(3);
  });
});
