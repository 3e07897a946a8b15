import { randomUUID } from 'node:crypto';
import { MemorySaver } from '@langchain/langgraph';
import { EMPTY_GUARDRAILS, FLOW_INPUT_SCHEMAS, LocalProvider } from '../shared/src';
import { FLOWS } from '../services/agent-runner/src/flows/flow-registry';
import { FakeStepRunner } from '../test/support/step-runner.fake';

async function main() {
  const provider = new LocalProvider();
  const tool = {
    invoke: async (input: { prompt: string; system?: string; max_tokens?: number; model: string }) => {
      const r = await provider.generate({ model: 'gemini-2.5-pro', system: input.system, messages: [{ role: 'user', content: input.prompt }], maxTokens: input.max_tokens ?? 100, signal: new AbortController().signal } as never);
      return { text: r.text, model: r.model, provider: 'local' as const, usage: { input_tokens: 1, cached_input_tokens: 0, cache_write_tokens: 0, output_tokens: 1, thinking_tokens: 0 }, cost_usd: 0, cost_log_id: 'x' };
    },
  };
  for (const saver of ['memory', 'none'] as const) {
    const graph = FLOWS.research.compile(saver === 'memory' ? new MemorySaver() : (undefined as never));
    const agent = { key: 'cognition', name: 'Cognition', domain: 'research' };
    const once = async (i: number) => {
      const signal = new AbortController().signal;
      const steps = new FakeStepRunner({ dispatchTool: tool as never, model: 'standard', signal });
      await graph.invoke(FLOW_INPUT_SCHEMAS.research.parse({ topic: `t ${i}` }), { configurable: { thread_id: randomUUID(), runtime: { steps, guardrails: EMPTY_GUARDRAILS, model: 'standard', agent, signal } }, signal });
    };
    for (let i = 0; i < 200; i++) await once(i);
    const lat: number[] = [];
    for (let i = 0; i < 300; i++) { const t = performance.now(); await once(i); lat.push(performance.now() - t); }
    lat.sort((a, b) => a - b);
    console.log(saver, 'p50', lat[150]!.toFixed(2), 'p99', lat[297]!.toFixed(2));
  }
}
main().then(() => process.exit(0));
