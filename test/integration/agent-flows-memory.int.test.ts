import { decimalToNano, sumNano } from '@raptorflow/core/money/money';
import { lordsWorkspace, runsClient } from '../support/agent-runs';
import { client } from '../support/http';
import { actorOf, memoryInput, newMemoryService } from '../support/memory';
import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';

/**
 * The flows' memory end to end: the gateway and the agent-runner as real processes on the offline `local`
 * provider (its embedder is deterministic, and the same one this process writes with), the database read
 * directly for what the runs stored, recalled, cost and audited.
 */
const { stack, services } = useServices();
let gateway: RunningService;

beforeAll(async () => {
  const env = serviceEnv({ LLM_PROVIDER: 'local' });
  [gateway] = await Promise.all([services.start('gateway', env), services.start('agent-runner', env)]);
}, 60_000);

const steps = (runId: string) => stack.db('agent_run_steps').where({ run_id: runId }).orderBy('position');
const stepOutput = async (runId: string, key: string) =>
  (await stack.db('agent_run_steps').where({ run_id: runId, key }).first()).output;
const costRows = (runId: string) =>
  stack.db('cost_logs').where({ agent_run_id: runId }).orderBy('created_at');
/** The prompts the run's model calls were given (one `tool.call` audit row per dispatch). */
const prompts = async (runId: string): Promise<string[]> =>
  (
    await stack.db('audit_logs').where({ agent_run_id: runId, action: 'tool.call' }).orderBy('created_at')
  ).map((a) => a.input.prompt as string);
const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
/** Each cost row as what it paid for: a model call or an embedding. */
const kinds = async (runId: string) =>
  (await costRows(runId)).map((c) => (c.alias === 'embed' ? 'embed' : 'model'));

/** Every step's cost adds up to the run's, to the nano-dollar: memory's embedding calls included. */
async function expectStepCostsAddUp(runId: string) {
  const run = await stack.db('agent_runs').where({ id: runId }).first();
  const rows = await steps(runId);
  expect(sumNano(rows.map((s) => decimalToNano(s.cost_usd)))).toBe(decimalToNano(run.cost_usd));
  expect(sumNano((await costRows(runId)).map((c) => decimalToNano(c.cost_usd)))).toBe(
    decimalToNano(run.cost_usd),
  );
}

describe('research', () => {
  it('remembers its findings and brief; a run on a related topic recalls them for plan and synthesize', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const runs = runsClient(gateway.url, owner, ws);
    const firstId = await runs.create({
      agent: 'cognition',
      input: { topic: 'oat milk for runners', audience: 'marathoners', depth: 'quick' },
    });
    const first = await runs.until(firstId, ['completed', 'failed']);
    expect(first.status).toBe('completed');
    expect(first.steps.map((s: { key: string }) => s.key)).toEqual([
      'recall',
      'plan',
      'gather',
      'synthesize',
      'remember',
    ]);
    // Nothing to recall yet: no embedding call, and the step says why.
    expect(first.output.recalled).toEqual([]);
    expect(await stepOutput(firstId, 'recall')).toEqual({
      recalled: [],
      skipped: { code: 'memory_empty', message: expect.any(String) },
    });

    // One finding per question and the brief, by Cognition, sourced from the run, created by its requester.
    const stored = await stack.db('memory_items').where({ source_run_id: firstId });
    expect(stored).toHaveLength(first.output.findings.length + 1);
    expect(stored.map((r) => r.id).sort()).toEqual([...first.output.remembered].sort());
    expect(await stepOutput(firstId, 'remember')).toEqual({
      remembered: first.output.remembered,
      skipped: null,
    });
    const findings = stored.filter((r) => r.kind === 'finding');
    expect(findings.map((r) => r.subject).sort()).toEqual(
      first.output.findings.map((f: { question: string }) => f.question).sort(),
    );
    const [brief] = stored.filter((r) => r.kind === 'brief');
    expect(brief).toMatchObject({ subject: 'oat milk for runners', workspace_id: ws.id });
    expect(brief.content).toContain(first.output.brief.summary);
    for (const r of stored)
      expect(r).toMatchObject({
        agent: 'cognition',
        created_by: owner.id,
        embedding_model: 'local:gemini-embedding-001',
        valid_to: null,
        metadata: { topic: 'oat milk for runners', audience: 'marathoners', run_step: 'remember' },
      });
    const writes = await stack.db('audit_logs').where({ agent_run_id: firstId, action: 'memory.write' });
    expect(writes.map((a) => a.resource_id).sort()).toEqual(stored.map((r) => r.id).sort());
    expect(writes.every((a) => a.actor_type === 'agent' && a.actor_id === 'cognition')).toBe(true);
    // Three model calls and one embedding call (the write's batch), the latter counted in `remember`.
    const firstCosts = await costRows(firstId);
    expect(await kinds(firstId)).toEqual(['model', 'model', 'model', 'embed']);
    const firstSteps = await steps(firstId);
    expect(firstSteps[0]).toMatchObject({ key: 'recall', model: null });
    expect(decimalToNano(firstSteps[0].cost_usd)).toBe(0n);
    expect(firstSteps[4]).toMatchObject({ key: 'remember', model: 'gemini-embedding-001' });
    expect(decimalToNano(firstSteps[4].cost_usd)).toBe(decimalToNano(firstCosts[3].cost_usd));
    expect(decimalToNano(firstSteps[4].cost_usd)).toBeGreaterThan(0n);
    await expectStepCostsAddUp(firstId);

    const secondId = await runs.create({
      agent: 'cognition',
      input: { topic: 'oat milk for marathon runners', depth: 'quick' },
    });
    const second = await runs.until(secondId, ['completed', 'failed']);
    expect(second.status).toBe('completed');
    const recall = await stepOutput(secondId, 'recall');
    expect(recall.skipped).toBeNull();
    expect(recall.recalled.length).toBeGreaterThan(0);
    expect(recall.recalled.length).toBeLessThanOrEqual(5);
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const item of recall.recalled) {
      expect(Object.keys(item).sort()).toEqual(['content', 'id', 'kind', 'score', 'similarity']);
      expect(byId.get(item.id)).toMatchObject({
        content: item.content,
        kind: item.kind,
        source_run_id: firstId,
      });
      expect(item.score).toBeGreaterThan(0);
    }
    const scores = recall.recalled.map((i: { score: number }) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(second.output.recalled).toEqual(recall.recalled);

    // What was recalled is in the prompts of plan and synthesize, not in gather's.
    const [plan, gather, synthesize] = await prompts(secondId);
    const line = `- (${recall.recalled[0].kind}) ${flat(recall.recalled[0].content)}`;
    for (const p of [plan!, synthesize!]) {
      expect(p).toContain('What the Council already knows');
      expect(p).toContain(line);
    }
    expect(gather).not.toContain('What the Council already knows');

    // Two embedding calls now: the recall's query and the write, each in its own step's cost.
    const secondCosts = await costRows(secondId);
    expect(await kinds(secondId)).toEqual(['embed', 'model', 'model', 'model', 'embed']);
    const secondSteps = await steps(secondId);
    expect(secondSteps[0]).toMatchObject({ key: 'recall', model: 'gemini-embedding-001' });
    expect(decimalToNano(secondSteps[0].cost_usd)).toBe(decimalToNano(secondCosts[0].cost_usd));
    expect(Number(secondSteps[0].input_tokens)).toBe(Number(secondCosts[0].input_tokens));
    await expectStepCostsAddUp(secondId);
    expect(await stack.db('memory_items').where({ source_run_id: secondId })).toHaveLength(
      second.output.findings.length + 1,
    );
  }, 60_000);
});

describe('muse', () => {
  it('recalls the brand items written through MemoryService and has the draft honour them', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    const { memory } = await newMemoryService(stack);
    const written = await memory.write(actorOf(ws.id, owner.id), [
      memoryInput('Our voice for running shoes is warm, plain and playful; never say cheap.', {
        kind: 'brand',
      }),
      memoryInput('Every email about shoes mentions free returns within 60 days.', { kind: 'brand' }),
      // Not a brand item: the muse never recalls it, however close it is to the brief.
      memoryInput('The spring sale on running shoes lasts two weeks.', { kind: 'fact' }),
    ]);
    const brandIds = written.slice(0, 2).map((s) => s.item.id);
    const runs = runsClient(gateway.url, owner, ws);
    const id = await runs.create({
      agent: 'herald',
      input: { brief: 'Spring sale on running shoes, 20% off', channel: 'email' },
    });
    const run = await runs.until(id, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    expect(run.steps[0]).toMatchObject({ key: 'recall', status: 'completed' });
    expect(run.output.recalled.map((i: { id: string }) => i.id).sort()).toEqual([...brandIds].sort());
    expect(run.output.recalled.every((i: { kind: string }) => i.kind === 'brand')).toBe(true);
    expect((await stepOutput(id, 'recall')).recalled).toEqual(run.output.recalled);

    const [draft] = await prompts(id);
    expect(draft).toContain('Brand facts to honour:');
    for (const w of written.slice(0, 2)) expect(draft).toContain(`- ${w.item.content}`);
    expect(draft).not.toContain('two weeks');
    await expectStepCostsAddUp(id);
  }, 30_000);
});

describe('guardian', () => {
  it('costs nothing with no decision on record, then cites a relevant decision without changing the verdict', async () => {
    const { owner, ws } = await lordsWorkspace(stack.db);
    await stack.db('workspace_guardrails').insert({
      workspace_id: ws.id,
      rules: JSON.stringify({
        banned_phrases: [],
        banned_claims: ['guaranteed results'],
        required_disclaimers: [],
      }),
    });
    const { memory } = await newMemoryService(stack);
    // Memory that is not a decision does not wake the citation search.
    await memory.write(actorOf(ws.id, owner.id), [
      memoryInput('Ads about protein shakes do best on Instagram.', { kind: 'finding' }),
    ]);
    const runs = runsClient(gateway.url, owner, ws);
    const input = { content: 'Guaranteed results in a week with our protein shake!' };
    // Flagged content waits for a human (issue 18): the owner approves, and the run completes.
    const approved = async (id: string) => {
      await runs.until(id, ['awaiting_approval']);
      const h = { headers: { 'x-workspace-id': ws.id } };
      const res = await client(gateway.url, owner.token).post(
        `/v1/agent-runs/${id}/approval`,
        { decision: 'approve' },
        h,
      );
      expect(res.status).toBe(200);
      return runs.until(id, ['completed', 'failed']);
    };
    const approval = { decision: 'approve', decided_by: owner.id, note: null, content: input.content };

    const plainId = await runs.create({ agent: 'arbiter', input });
    const plain = await approved(plainId);
    expect(plain).toMatchObject({ status: 'completed', cost_usd: 0 });
    expect(plain.output).toEqual({
      verdict: 'fail',
      violations: [{ kind: 'banned_claim', text: 'guaranteed results' }],
      citations: [],
      approval,
    });
    expect(await costRows(plainId)).toHaveLength(0);
    expect((await stepOutput(plainId, 'guardian')).citations_skipped).toMatchObject({ code: 'memory_empty' });

    // A decision another Lord recorded, and one about something else.
    const [relevant, other] = await memory.write(actorOf(ws.id, owner.id), [
      memoryInput('We decided never to promise guaranteed results for protein shakes in ads.', {
        kind: 'decision',
        agent: 'strategos',
      }),
      memoryInput('The loyalty card stays free for everyone.', { kind: 'decision' }),
    ]);
    const citedId = await runs.create({ agent: 'arbiter', input });
    const cited = await approved(citedId);
    expect(cited.status).toBe('completed');
    const { citations, approval: decided, ...verdict } = cited.output;
    expect(decided).toEqual(approval);
    expect(verdict).toEqual({ verdict: plain.output.verdict, violations: plain.output.violations });
    expect(citations[0]).toEqual({
      id: relevant!.item.id,
      score: expect.any(Number),
      content: relevant!.item.content,
    });
    // Both decisions are current (k = 3 leaves room), the relevant one first.
    expect(citations.map((c: { id: string }) => c.id)).toEqual([relevant!.item.id, other!.item.id]);
    expect(citations[0].score).toBeGreaterThan(citations[1].score);
    // The query's embedding is the run's only cost, and no model call was made.
    expect(await kinds(citedId)).toEqual(['embed']);
    expect(await prompts(citedId)).toEqual([]);
    expect(cited.cost_usd).toBeGreaterThan(0);
    await expectStepCostsAddUp(citedId);
  }, 30_000);
});
