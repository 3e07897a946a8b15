import { waitForExit } from '../../../scripts/lib/service-process';
import { fakeProviderEnv, useFakeProviders } from '../../support/llm';
import { serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { finalRunJob, lordsWorkspace, runsClient } from '../../support/agent-runs';
import { openSse } from '../../support/sse';

/**
 * Structured answers and streamed text through the API, with real gateway and agent-runner processes and the
 * fake Gemini server speaking structured output and SSE streaming to the real SDK: a malformed answer is
 * repaired once (the first answer and the schema errors go back), a second bad one fails the step and the
 * run cleanly with `invalid_model_answer`; a slow stream reaches SSE clients as `step.delta` frames, and a
 * reconnect with Last-Event-ID replays the step's final text instead of its deltas.
 */
const { stack, services } = useServices();
const fakes = useFakeProviders();
const FLASH = 'gemini-3.8-flash';
let gateway: RunningService;
let runner: RunningService;

beforeAll(async () => {
  const env = serviceEnv(fakeProviderEnv(fakes));
  [gateway, runner] = await Promise.all([
    services.start('gateway', env),
    services.start('agent-runner', env),
  ]);
}, 60_000);
afterAll(async () => {
  runner.child.kill('SIGTERM');
  await waitForExit(runner.child, 15_000);
});

/** The generateContent calls of the chat model (embeddings are another model), in order. */
const chats = () => fakes.gemini.requests.filter((r) => r.model === FLASH);
const userTurns = (body: any): string[] =>
  body.contents.filter((c: any) => c.role === 'user').map((c: any) => c.parts[0].text as string);

it('a malformed answer is repaired once: the repair request carries it and the errors, and the run completes', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  // matrix: the plan's first answer is not JSON, its repair is the fake's schema-valid default.
  fakes.gemini.script(FLASH, { ok: { text: 'Here is the plan: grow signups.' } });
  const id = await runs.create({
    agent: 'strategos',
    input: { objective: 'Double signups', horizon_weeks: 3 },
    model: 'fast',
  });
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 30_000);
  expect(run.status).toBe('completed');
  expect(run.output.plan.phases.length).toBeGreaterThan(0);
  for (const t of run.output.tasks) expect(t.week).toBeLessThanOrEqual(3);

  // plan, its repair, tasks: each asked for JSON of its schema through responseJsonSchema.
  const calls = chats();
  expect(calls).toHaveLength(3);
  for (const c of calls) {
    expect(c.stream).toBe(true);
    expect(c.body.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object' },
    });
  }
  const repair = calls[1]!.body;
  expect(repair.contents.map((c: any) => c.role)).toEqual(['user', 'model', 'user']);
  expect(repair.contents[0]).toEqual(calls[0]!.body.contents[0]);
  expect(repair.contents[1].parts[0].text).toBe('Here is the plan: grow signups.');
  expect(userTurns(repair)[1]).toMatch(
    /does not match the required JSON schema:\n- at \(root\): the answer is not JSON/,
  );
  // Both calls are paid for and recorded; the plan step's event holds the repaired answer.
  const costs = await stack.db('cost_logs').where({ agent_run_id: id, outcome: 'success' });
  expect(costs).toHaveLength(3);
  const completed = await stack
    .db('agent_run_events')
    .where({ run_id: id, type: 'step.completed' })
    .orderBy('id');
  expect(completed[0].data.step).toBe('plan');
  expect(JSON.parse(completed[0].data.text)).toEqual(run.output.plan);
}, 60_000);

it('an answer still wrong after its repair fails the step and the run with invalid_model_answer, once', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  // research: the plan answers an empty list of questions twice (the schema wants at least one).
  fakes.gemini.script(FLASH, { ok: { json: { questions: [] } } }, { ok: { json: { questions: [] } } });
  const id = await runs.create({
    agent: 'seer',
    input: { topic: 'oat milk', depth: 'quick' },
    model: 'fast',
  });
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 30_000);
  expect(run).toMatchObject({
    status: 'failed',
    error: { code: 'invalid_model_answer', message: expect.stringContaining('research_plan') },
  });
  expect(run.error.message).toContain('questions');
  const plan = run.steps.find((s: { key: string }) => s.key === 'plan');
  expect(plan).toMatchObject({ status: 'failed', error: { code: 'invalid_model_answer' } });
  // The answer and one repair; the failure is final (no retry of the job, no third call).
  expect(await finalRunJob(stack.db, stack.bus.queue('agent'), id)).toMatchObject({ attemptsMade: 1 });
  expect(chats()).toHaveLength(2);
  expect(userTurns(chats()[1]!.body)[1]).toContain('- at questions: Too small');
}, 60_000);

it('a slow stream reaches live SSE clients as step.delta frames; Last-Event-ID replays the final text only', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  // Every chat answer in 6 pieces, 150 ms apart: well over the runner's 50 ms coalescing.
  fakes.gemini.setDefault({ ok: { chunks: 6, chunkDelayMs: 150 } }, FLASH);
  const id = await runs.create({
    agent: 'seer',
    input: { topic: 'refill stations', depth: 'quick' },
    model: 'fast',
  });
  const url = `${gateway.url}/v1/agent-runs/${id}/events`;
  const headers = { 'x-workspace-id': ws.id };
  const live = await openSse(url, { token: owner.token, headers });
  const events = await live.ended(45_000);
  expect((await runs.get(id)).status).toBe('completed');

  const deltas = events.filter((e) => e.event === 'step.delta');
  const stored = events.filter((e) => e.event !== 'step.delta');
  // Several deltas per streamed step, none with an id (a reconnect resumes after the stored events).
  expect(deltas.length).toBeGreaterThanOrEqual(6);
  expect(deltas.every((d) => d.id === undefined)).toBe(true);
  expect(stored.every((e) => e.id !== undefined)).toBe(true);
  for (const step of ['plan', 'gather', 'synthesize']) {
    const mine = deltas.filter((d) => d.data.step === step);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const done = stored.find((e) => e.event === 'step.completed' && e.data.step === step)!;
    // The deltas make the final text, which step.completed carries whole.
    expect(mine.map((d) => d.data.text).join('')).toBe(done.data.text);
    // Live deltas came between the step's start and its completion.
    const started = events.findIndex((e) => e.event === 'step.started' && e.data.step === step);
    expect(events.indexOf(mine[0]!)).toBeGreaterThan(started);
    expect(events.indexOf(mine.at(-1)!)).toBeLessThan(events.indexOf(done));
  }

  // Reconnecting after the first stored event: everything stored after it, no deltas, the full texts.
  const resumed = await openSse(url, {
    token: owner.token,
    headers: { ...headers, 'last-event-id': stored[0]!.id! },
  });
  const rest = await resumed.ended(10_000);
  expect(rest.map((e) => e.id)).toEqual(stored.slice(1).map((e) => e.id));
  expect(rest.some((e) => e.event === 'step.delta')).toBe(false);
  const plan = rest.find((e) => e.event === 'step.completed' && e.data.step === 'plan')!;
  expect(JSON.parse(plan.data.text).questions.length).toBeGreaterThan(0);
  expect(await stack.db('agent_run_events').where({ run_id: id, type: 'step.delta' })).toHaveLength(0);
}, 60_000);
