import { z } from 'zod';
import { ProviderError } from '@raptorflow/llm/llm.types';
import type { ResponseSchema } from '@raptorflow/llm/llm.types';
import { LocalProvider } from '@raptorflow/llm/providers/local.provider';
import { responseJsonSchema } from '../../services/agent-runner/src/structured-answer';
import type { FakeBehaviour, FakeLlmServer } from '../support/fake-llm';
import { providerTargets, request } from '../support/fake-llm/provider-targets.fixture';
import { useFakeProviders } from '../support/llm';
import type { ProviderTarget as Target } from '../support/fake-llm/provider-targets.fixture';

/**
 * Structured output and streaming with the real SDKs (@google/genai generateContent/generateContentStream,
 * @anthropic-ai/sdk messages.create/messages.stream, both Vertex variants) against the fakes: what goes on
 * the wire, and that the answer, the streamed pieces and the final usage come back whole.
 */
const { gemini, anthropic } = useFakeProviders();
const targets = providerTargets(gemini, anthropic);
const fakeOf = (t: Target): FakeLlmServer<object> => (t.family === 'gemini' ? gemini : anthropic);
const script = (t: Target, ...b: FakeBehaviour<object>[]) => fakeOf(t).script(t.model, ...b);

const Plan = z.object({
  summary: z.string().min(1),
  tasks: z.array(z.object({ week: z.number().int().min(1).max(4), task: z.string().min(1) })).min(1),
});
const schema: ResponseSchema = { name: 'plan', schema: responseJsonSchema(Plan) };

describe.each(targets)('$label', (t) => {
  it('asks for the schema through native structured output and gets schema-valid JSON back', async () => {
    const res = await t.make().generate(request(t.model, { responseSchema: schema }));
    expect(Plan.safeParse(JSON.parse(res.text)).success).toBe(true);
    const sent = fakeOf(t).lastRequest(t.model)!;
    expect(sent.stream).toBe(false);
    if (t.family === 'gemini') {
      expect(sent.body.generationConfig).toMatchObject({
        responseMimeType: 'application/json',
        responseJsonSchema: schema.schema,
      });
    } else {
      // The SDK's own transform: the shape stays, bounds the API cannot enforce move into descriptions.
      const format = sent.body.output_config.format;
      expect(format.type).toBe('json_schema');
      expect(format.schema).toMatchObject({
        type: 'object',
        required: ['summary', 'tasks'],
        additionalProperties: false,
        properties: { tasks: { type: 'array', minItems: 1 } },
      });
      expect(JSON.stringify(format.schema)).not.toContain('$schema');
    }
  });

  it('streams the answer in pieces over SSE; the pieces make the text, the usage is the final one', async () => {
    script(t, {
      ok: { json: { summary: 'S', tasks: [{ week: 2, task: 'Draft the email' }] }, chunks: 5, usage: {} },
    });
    const pieces: string[] = [];
    const res = await t
      .make()
      .generate(request(t.model, { responseSchema: schema, onText: (d) => pieces.push(d) }));
    expect(JSON.parse(res.text)).toEqual({ summary: 'S', tasks: [{ week: 2, task: 'Draft the email' }] });
    expect(pieces.length).toBe(5);
    expect(pieces.join('')).toBe(res.text);
    expect(res.usage.outputTokens).toBe(50);
    expect(res.usage.inputTokens).toBeGreaterThan(0);
    const sent = fakeOf(t).lastRequest(t.model)!;
    expect(sent.stream).toBe(true);
    if (t.family === 'gemini') expect(sent.path).toMatch(/:streamGenerateContent$/);
    else if (t.label === 'Anthropic Vertex') expect(sent.path).toMatch(/:streamRawPredict$/);
    else expect(sent.body.stream).toBe(true);
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  /** A streamed call expected to fail: its error and the pieces that arrived before it. */
  async function failedStream(): Promise<{ err: unknown; pieces: string[] }> {
    const pieces: string[] = [];
    const err = await t
      .make()
      .generate(request(t.model, { onText: (d) => pieces.push(d) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    return { err, pieces };
  }

  it('a streamed call refused before its first byte is a classified, retryable error', async () => {
    script(t, { status: 503 });
    const { err, pieces } = await failedStream();
    expect((err as ProviderError).retryable).toBe(true);
    expect(pieces).toEqual([]);
  });

  it('a stream cut off mid-answer is an error after the pieces that arrived', async () => {
    script(t, { ok: { text: 'abcdefghijklmnopqrstuvwxyz', chunks: 6, breakAfterChunks: 3 } });
    const { pieces } = await failedStream();
    expect(pieces.join('')).toBe('abcdefghijklmno');
  });
});

describe('the local stand-in', () => {
  it('answers schema-valid JSON, the same for the same request, streamed in pieces when asked', async () => {
    const local = new LocalProvider();
    const req = request('gemini-3.8-flash', { responseSchema: schema });
    const a = await local.generate(req);
    const pieces: string[] = [];
    const b = await local.generate({ ...req, onText: (d) => pieces.push(d) });
    expect(Plan.parse(JSON.parse(a.text)).tasks.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(a.text);
  });
});
