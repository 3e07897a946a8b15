import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Job } from 'bullmq';
import { createAgentRunnerWorker } from '../../services/agent-runner/src/agent-runner.worker';
import { getSettings } from '@raptorflow/core/config/settings';
import { runsClient } from '../support/agent-runs';
import { newUser } from '../support/factories';
import type { TestUser, TestWorkspace } from '../support/factories';
import { expectError } from '../support/gateway';
import { client, eventually } from '../support/http';
import { newDispatcher } from '../support/llm';
import { agentResolver, agentRunService, runLease, scheduleTicks } from '../support/runner-wiring';
import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';
import { workerOptions } from '../support/workers';

/**
 * A run asked for right after `POST /v1/workspaces`, before the seeder has written the workspace's Lords:
 * accepted (202), kept queued while the runner waits for seeding (re-delayed, no attempt used, no worker slot
 * held), and run once the Lords exist, or failed with `agent_not_seeded` once the wait is over. The gateway is
 * a real process throughout; no seeder runs until the last test starts one.
 */
const { stack, services } = useServices();
const env = serviceEnv({ LLM_PROVIDER: 'local' });
let gateway: RunningService;

beforeAll(async () => {
  gateway = await services.start('gateway', env);
}, 60_000);

/** A workspace through the API: its `workspace.created` waits on the queue until a seeder runs. */
async function freshWorkspace(): Promise<{ owner: TestUser; ws: TestWorkspace }> {
  const owner = await newUser();
  const res = await client(gateway.url, owner.token).post('/v1/workspaces', { name: 'Before seeding' });
  if (res.status !== 201) throw new Error(`create workspace: ${res.status} ${JSON.stringify(res.body)}`);
  return { owner, ws: { id: res.body.id as string, name: res.body.name as string } };
}

/** The BullMQ job that carries a run's `agent.run.requested` (job id = event id, read from the outbox). */
async function runJob(runId: string): Promise<Job> {
  const row = await stack
    .db('event_outbox')
    .where({ event_type: 'agent.run.requested' })
    .whereRaw(`envelope->'payload'->>'agent_run_id' = ?`, [runId])
    .first<{ id: string }>('id');
  const job = await stack.bus.queue('agent').getJob(row!.id);
  if (!job) throw new Error(`no job for run ${runId}`);
  return job;
}

/** Resolves once the runner has taken the run's job at least `looks` times and put it back delayed. */
async function redelayed(runId: string, looks: number, timeoutMs: number): Promise<Job> {
  return eventually(
    async () => {
      const job = await runJob(runId);
      return job.attemptsStarted >= looks && (await job.getState()) === 'delayed' ? job : undefined;
    },
    timeoutMs,
    50,
  );
}

const statusEvents = (runId: string) =>
  stack
    .db('agent_run_events')
    .where({ run_id: runId, type: 'status' })
    .orderBy('id')
    .select<Array<{ data: { status: string }; created_at: Date }>>('data', 'created_at');

const research = { agent: 'cognition', input: { topic: 'oat milk for runners', depth: 'quick' } };

it('an unknown agent key is still 422 naming agent; a Council key is checked against its flow at once', async () => {
  const { owner, ws } = await freshWorkspace();
  const c = client(gateway.url, owner.token);
  const h = { headers: { 'x-workspace-id': ws.id } };
  const cases: Array<[unknown, string]> = [
    [{ agent: 'zeus', input: { topic: 'x' } }, 'body.agent'],
    [{ agent: 'Cognition', input: { topic: 'x' } }, 'body.agent'],
    // No agent row yet: the input is checked against the Council's default flow for the key.
    [{ agent: 'cognition', input: {} }, 'body.input.topic'],
    [{ agent: 'herald', input: { topic: 'a research input' } }, 'body.input.brief'],
    [{ agent: 'arbiter', input: { content: 5 } }, 'body.input.content'],
    [{ agent: 'seer', input: { topic: 'x' }, model: 'gpt-9' }, 'body.model'],
  ];
  for (const [body, path] of cases) {
    const res = await c.post('/v1/agent-runs', body, h);
    expectError(res, 422, 'validation_failed');
    const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
    if (!paths.includes(path))
      throw new Error(`${JSON.stringify(body)}: expected ${path} in ${JSON.stringify(paths)}`);
  }
  expect(await stack.db('agent_runs').where({ workspace_id: ws.id })).toHaveLength(0);
  expect(await stack.db('agents').where({ workspace_id: ws.id })).toHaveLength(0);
});

describe('with an in-process runner whose seeding wait is short, and no seeder', () => {
  const WAIT_MS = 2_000;
  const checkpointer = PostgresSaver.fromConnString(getSettings().databaseUrl, { schema: 'langgraph' });
  let worker: ReturnType<typeof createAgentRunnerWorker>;
  beforeAll(() => {
    const lease = runLease(stack, 'seeding-wait-test', { agents: agentResolver(stack, WAIT_MS) });
    const { dispatcher } = newDispatcher(stack, { LLM_PROVIDER: 'local' });
    const service = agentRunService(stack, { lease, checkpointer, dispatcher });
    worker = createAgentRunnerWorker(
      service,
      scheduleTicks(stack),
      workerOptions(stack, 'agentRunner', { concurrency: 2 }),
    );
  });
  // Closed before the next test starts the runner process, so that one is the only runner there is.
  afterAll(async () => {
    await worker.close();
    await checkpointer.end();
  });

  it('fails the run with agent_not_seeded, only after it waited queued for the whole bound', async () => {
    const { owner, ws } = await freshWorkspace();
    const runs = runsClient(gateway.url, owner, ws);
    const id = await runs.create(research);

    const ended = await runs.until(id, ['completed', 'failed', 'cancelled'], WAIT_MS + 15_000);
    expect(ended).toMatchObject({ status: 'failed', started_at: null, output: null });
    expect(ended.error.code).toBe('agent_not_seeded');
    expect(ended.error.message).toContain('"cognition"');
    expect(ended.error.message).toMatch(/Council of Lords was never seeded/);

    // The database's own timestamps: queued at the request, failed no earlier than the bound, nothing between.
    const events = await statusEvents(id);
    expect(events.map((e) => e.data.status)).toEqual(['queued', 'failed']);
    const waited = events[1]!.created_at.getTime() - events[0]!.created_at.getTime();
    expect(waited).toBeGreaterThanOrEqual(WAIT_MS);
    expect(waited).toBeLessThan(WAIT_MS + 5_000);
    const row = await stack.db('agent_runs').where({ id }).first();
    expect(row).toMatchObject({ agent_id: null, attempts: 0, started_at: null });
    expect(row.completed_at.getTime() - row.created_at.getTime()).toBeGreaterThanOrEqual(WAIT_MS);

    // The runner looked several times while waiting, and not one of those looks used up an attempt.
    const job = await runJob(id);
    expect(job.attemptsStarted).toBeGreaterThanOrEqual(3);
    expect(job.attemptsMade).toBe(1);
    expect(await job.getState()).toBe('completed');
  });
});

it('real gateway and runner: a run asked for before seeding is accepted, waits queued, then completes', async () => {
  const runner = await services.start('agent-runner', env);
  const { owner, ws } = await freshWorkspace();
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create(research);

  // No agent row yet: the run is queued with its Council defaults and no agent.
  expect(await stack.db('agent_runs').where({ id }).first()).toMatchObject({
    status: 'queued',
    agent_id: null,
    agent_key: 'cognition',
    flow: 'research',
    model: 'standard',
    input: { topic: 'oat milk for runners', depth: 'quick' },
  });

  // The runner has looked at it (twice) and put it back: still queued, not started, no worker slot held.
  const waiting = await redelayed(id, 2, 20_000);
  expect(waiting.attemptsMade).toBe(0);
  expect(await runs.get(id)).toMatchObject({ status: 'queued', started_at: null });
  expect(await stack.db('agents').where({ workspace_id: ws.id })).toHaveLength(0);
  expect((await statusEvents(id)).map((e) => e.data.status)).toEqual(['queued']);
  expect(runner.child.exitCode).toBeNull();

  await services.start('seeder', env);
  const done = await runs.until(id, ['completed', 'failed', 'cancelled'], 30_000);
  expect(done).toMatchObject({ status: 'completed', agent: 'cognition', error: null });
  expect(done.output.brief).toMatchObject({ summary: expect.any(String) });

  const cognition = await stack.db('agents').where({ workspace_id: ws.id, key: 'cognition' }).first();
  const row = await stack.db('agent_runs').where({ id }).first();
  expect(row.agent_id).toBe(cognition.id);
  expect(row.attempts).toBe(1);
  expect(row.started_at.getTime()).toBeGreaterThanOrEqual(cognition.created_at.getTime());
  expect((await statusEvents(id)).map((e) => e.data.status)).toEqual(['queued', 'running', 'completed']);
  // Every dispatch is attributed to the Lord found at the start.
  const toolCalls = await stack.db('audit_logs').where({ agent_run_id: id, action: 'tool.call' });
  expect(toolCalls.length).toBeGreaterThan(0);
  expect(toolCalls.every((a) => a.actor_id === cognition.id)).toBe(true);

  // However many times the runner looked while waiting, only the run itself counted as an attempt.
  const job = await runJob(id);
  expect(job.attemptsStarted).toBeGreaterThan(2);
  expect(job.attemptsMade).toBe(1);
}, 90_000);
