import { MemorySaver } from '@langchain/langgraph';
import { EMPTY_GUARDRAILS } from '@raptorflow/data/runs/flow-inputs';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import type {
  FlowDefinition,
  RecallRequest,
  RecalledItem,
  RememberItem,
  StepRunner,
  StepScope,
} from './flow.types';
import { sampleFromSchema } from '@raptorflow/llm/schema-sample';
import { responseJsonSchema } from '../structured-answer';
import { guardianFlow } from './guardian.flow';
import { museFlow } from './muse.flow';
import { researchFlow } from './research.flow';

/**
 * The flows' use of memory without a database: a scripted StepRunner answers every dispatch with a sample of
 * the step's schema, recalls with the items given and records what each step asked and stored.
 */
class ScriptedSteps implements StepRunner {
  readonly prompts = new Map<string, string>();
  readonly recalls = new Map<string, RecallRequest>();
  readonly remembered: RememberItem[] = [];
  readonly outputs = new Map<string, unknown>();
  dispatches = 0;

  constructor(private readonly recalled: RecalledItem[]) {}

  async step<T>(key: string, fn: (scope: StepScope) => Promise<T>): Promise<T> {
    const scope: StepScope = {
      signal: new AbortController().signal,
      dispatch: async (req) => {
        this.dispatches++;
        this.prompts.set(key, req.prompt);
        const sample = sampleFromSchema(responseJsonSchema(req.schema), {
          seed: Buffer.from(key),
          topic: key,
        });
        const answer = req.schema.parse(sample);
        return { answer, text: JSON.stringify(sample), model: 'm', costUsd: 0, repaired: false };
      },
      recall: async (req) => {
        this.recalls.set(key, req);
        return { items: this.recalled, skipped: null };
      },
      remember: async (items) => {
        this.remembered.push(...items);
        return { ids: items.map((_, i) => `stored-${i}`), skipped: null };
      },
    };
    const out = await fn(scope);
    this.outputs.set(key, out);
    return out;
  }
}

async function run(
  flow: FlowDefinition,
  input: Record<string, unknown>,
  steps: ScriptedSteps,
  guardrails: GuardrailRules = EMPTY_GUARDRAILS,
) {
  const signal = new AbortController().signal;
  const runtime = {
    steps,
    guardrails,
    model: 'fast',
    agent: { key: 'cognition', name: 'Cognition', domain: 'research' },
    signal,
  };
  const state = await flow
    .compile(new MemorySaver())
    .invoke(input, { configurable: { thread_id: 't', runtime }, signal });
  return flow.output(state) as any;
}

const known: RecalledItem[] = [
  { id: 'a', kind: 'finding', score: 0.032, similarity: 0.71, content: 'Runners buy oat milk after races.' },
  { id: 'b', kind: 'decision', score: 0.016, similarity: null, content: 'No discounts above 15%.' },
];

describe('research', () => {
  it('recalls for its topic and audience, and tells plan and synthesize what the Council knows', async () => {
    const steps = new ScriptedSteps(known);
    const out = await run(
      researchFlow,
      { topic: 'oat milk', audience: 'marathon runners', depth: 'quick' },
      steps,
    );
    expect(steps.recalls.get('recall')).toEqual({
      query: 'oat milk for marathon runners',
      k: 5,
      kinds: ['fact', 'finding', 'brief', 'decision', 'brand'],
    });
    for (const key of ['plan', 'synthesize']) {
      const prompt = steps.prompts.get(key)!;
      expect(prompt).toContain('What the Council already knows');
      expect(prompt).toContain('- (finding) Runners buy oat milk after races.');
      expect(prompt).toContain('- (decision) No discounts above 15%.');
      // The subject still opens the prompt.
      expect(prompt.startsWith('Research topic: oat milk')).toBe(true);
    }
    // Gather answers the questions; what is known already shaped them.
    expect(steps.prompts.get('gather')).not.toContain('What the Council already knows');
    expect(out.recalled).toEqual(known);
    expect(steps.outputs.get('recall')).toEqual({ recalled: known, skipped: null });
  });

  it('remembers one finding per answered question and the brief, and lists the ids', async () => {
    const steps = new ScriptedSteps([]);
    const out = await run(researchFlow, { topic: 'oat milk', depth: 'quick' }, steps);
    expect(steps.prompts.get('plan')).not.toContain('What the Council already knows');
    const findings = steps.remembered.filter((m) => m.kind === 'finding');
    expect(findings).toEqual(
      out.findings.map((f: { question: string; finding: string }) => ({
        kind: 'finding',
        subject: f.question,
        content: f.finding,
        metadata: { topic: 'oat milk' },
      })),
    );
    const briefs = steps.remembered.filter((m) => m.kind === 'brief');
    expect(briefs).toHaveLength(1);
    expect(briefs[0]).toMatchObject({ subject: 'oat milk', metadata: { topic: 'oat milk' } });
    expect(briefs[0]!.content).toContain(out.brief.summary);
    expect(briefs[0]!.content).toContain(`- ${out.brief.key_points[0]}`);
    // No Lord named: the step runner stores them as the run's Lord.
    expect(steps.remembered.every((m) => m.agent === undefined)).toBe(true);
    expect(out.remembered).toEqual(steps.remembered.map((_, i) => `stored-${i}`));
  });
});

describe('muse', () => {
  it("recalls the brand's facts for the brief and has the draft honour them", async () => {
    const brand: RecalledItem[] = [
      { id: 'v', kind: 'brand', score: 0.03, similarity: 0.6, content: 'Our voice is warm and plain.' },
    ];
    const steps = new ScriptedSteps(brand);
    const out = await run(museFlow, { brief: 'Spring sale on running shoes', channel: 'email' }, steps);
    expect(steps.recalls.get('recall')).toEqual({
      query: 'Spring sale on running shoes',
      k: 5,
      kinds: ['brand'],
    });
    expect(steps.prompts.get('draft')).toContain('Brand facts to honour:\n- Our voice is warm and plain.');
    expect(out.recalled).toEqual(brand);
  });
});

describe('guardian', () => {
  const rules = { ...EMPTY_GUARDRAILS, banned_phrases: ['miracle'] };

  it("cites every Lord's relevant decisions beside a verdict they do not change, without a model call", async () => {
    const steps = new ScriptedSteps(known);
    const out = await run(guardianFlow, { content: 'A miracle cream, 20% off' }, steps, rules);
    expect(steps.recalls.get('guardian')).toEqual({
      query: 'A miracle cream, 20% off',
      k: 3,
      kinds: ['decision'],
      agents: 'any',
    });
    expect(out).toEqual({
      verdict: 'fail',
      violations: [{ kind: 'banned_phrase', text: 'miracle' }],
      citations: known.map(({ id, score, content }) => ({ id, score, content })),
    });
    expect(steps.dispatches).toBe(0);

    const uncited = await run(
      guardianFlow,
      { content: 'A miracle cream, 20% off' },
      new ScriptedSteps([]),
      rules,
    );
    expect(uncited).toEqual({ ...out, citations: [] });
  });
});
