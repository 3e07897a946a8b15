import { ProviderError } from '@raptorflow/llm/llm.types';
import { FakeAnthropicServer, FakeGeminiServer } from '../support/fake-llm';
import type { FakeBehaviour, FakeLlmServer } from '../support/fake-llm';
import {
  ACCESS_TOKEN,
  ANTHROPIC_KEY,
  GEMINI_KEY,
  providerTargets,
  request,
} from '../support/fake-llm/provider-targets.fixture';
import { abortWhen } from '../support/http';
import type { ProviderTarget as Target } from '../support/fake-llm/provider-targets.fixture';

// The real SDKs against fake servers speaking the real wire formats: no Google or Anthropic account involved.
const gemini = new FakeGeminiServer();
const anthropic = new FakeAnthropicServer();
const targets = providerTargets(gemini, anthropic);

const fakeOf = (t: Target): FakeLlmServer<object> => (t.family === 'gemini' ? gemini : anthropic);
const script = (t: Target, ...b: FakeBehaviour<object>[]) => fakeOf(t).script(t.model, ...b);

// Every error any test saw: none may carry a credential.
const seenMessages: string[] = [];

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  seenMessages.push((err as ProviderError).message);
  return err as ProviderError;
}

beforeAll(async () => {
  await Promise.all([gemini.start(), anthropic.start()]);
});
afterEach(() => {
  gemini.reset();
  anthropic.reset();
});
afterAll(async () => {
  await Promise.all([gemini.stop(), anthropic.stop()]);
  expect(seenMessages.length).toBeGreaterThan(20);
  for (const m of seenMessages)
    for (const secret of [GEMINI_KEY, ANTHROPIC_KEY, ACCESS_TOKEN]) expect(m).not.toContain(secret);
});

describe.each(targets)('$label', (t) => {
  it('answers with text, the model and realistic default usage', async () => {
    const req = request(t.model);
    const res = await t.make().generate(req);
    const chars = req.system!.length + req.messages[0]!.content.length;
    expect(res.text).toBe(`Fake answer from ${t.model}.`);
    expect(res.model).toBe(t.model);
    expect(res.usage).toEqual({
      inputTokens: Math.ceil(chars / 4),
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 50,
      thinkingTokens: 0,
    });
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  it('puts the system prompt, max tokens, turns and credentials on the wire', async () => {
    const req = request(t.model, {
      maxTokens: 77,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'A tagline, please.' },
      ],
    });
    await t.make().generate(req);
    const { body, headers, path } = fakeOf(t).lastRequest(t.model)!;
    if (t.family === 'gemini') {
      expect(body.systemInstruction.parts).toEqual([{ text: req.system }]);
      expect(body.generationConfig.maxOutputTokens).toBe(77);
      expect(body.contents.map((c: any) => [c.role, c.parts[0].text])).toEqual([
        ['user', 'Hi'],
        ['model', 'Hello!'],
        ['user', 'A tagline, please.'],
      ]);
    } else {
      expect(body.system).toBe(req.system);
      expect(body.max_tokens).toBe(77);
      expect(body.messages).toEqual(req.messages);
    }
    expect(path).toBe(t.wire.path);
    expect(headers[t.wire.auth[0]]).toBe(t.wire.auth[1]);
    // Vertex takes the model from the path and the API version from the body.
    if (t.label === 'Anthropic direct') expect(body.model).toBe(t.model);
    if (t.label === 'Anthropic Vertex') expect(body).toMatchObject({ anthropic_version: expect.any(String) });
    if (t.label === 'Anthropic Vertex') expect(body.model).toBeUndefined();
  });

  it('reports 429 with Retry-After as rate_limited after exactly one call', async () => {
    script(t, { status: 429, retryAfter: '2' });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err.kind).toBe('rate_limited');
    expect(err.opts).toMatchObject({ status: 429, retryAfterMs: 2000, provider: t.family, model: t.model });
    expect(err.retryable).toBe(true);
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  it.each([500, 503, 529])('reports %i as server_error after exactly one call', async (status) => {
    script(t, { status });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err.kind).toBe('server_error');
    expect(err.opts.status).toBe(status);
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  it.each([400, 401, 404])('reports %i as a final client_error', async (status) => {
    script(t, { status });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err.kind).toBe('client_error');
    expect(err.retryable).toBe(false);
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  it.each(['not-json', 'html', 'wrong-shape'] as const)(
    'reports a %s 200 body as bad_response',
    async (m) => {
      script(t, { malformed: m });
      const err = await failure(t.make().generate(request(t.model)));
      expect(err.kind).toBe('bad_response');
      expect(fakeOf(t).callCount(t.model)).toBe(1);
    },
  );

  it('stops a hung call when the signal aborts, reporting aborted', async () => {
    script(t, { hang: true });
    const before = fakeOf(t).callCount(t.model);
    const ac = abortWhen(() => fakeOf(t).callCount(t.model) > before);
    const started = Date.now();
    const err = await failure(t.make().generate(request(t.model, { signal: ac.signal })));
    expect(err.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fakeOf(t).callCount(t.model)).toBe(1);
  });

  it('makes no call at all for an already-aborted signal', async () => {
    const err = await failure(t.make().generate(request(t.model, { signal: AbortSignal.abort() })));
    expect(err.kind).toBe('aborted');
    expect(fakeOf(t).callCount()).toBe(0);
  });

  it('waits out a slow answer (delayMs)', async () => {
    script(t, { delayMs: 150 });
    const started = Date.now();
    await expect(t.make().generate(request(t.model))).resolves.toMatchObject({ model: t.model });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('reports a refused connection as network', async () => {
    const closed = t.family === 'gemini' ? new FakeGeminiServer() : new FakeAnthropicServer();
    const url = await closed.start();
    await closed.stop();
    const err = await failure(t.make(url).generate(request(t.model)));
    expect(err.kind).toBe('network');
  });

  it('keeps a credential echoed by the server out of the error message', async () => {
    script(t, {
      status: 401,
      message: `invalid credentials: ${GEMINI_KEY} / ${ANTHROPIC_KEY} / Bearer ${ACCESS_TOKEN}`,
    });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err.kind).toBe('client_error');
    expect(err.message).toContain('[redacted]');
  });
});

describe('Gemini usage shapes', () => {
  const t = targets[0]!;
  it.each(targets.filter((x) => x.family === 'gemini'))(
    '$label: cached, thinking, long context',
    async (x) => {
      gemini.script(
        x.model,
        {
          ok: {
            usage: { promptTokenCount: 10_000, cachedContentTokenCount: 8_000, candidatesTokenCount: 200 },
          },
        },
        {
          ok: {
            text: 'Answer.',
            thought: 'Let me think…',
            usage: { thoughtsTokenCount: 1_500, candidatesTokenCount: 90 },
          },
        },
        { ok: { usage: { promptTokenCount: 250_000, candidatesTokenCount: 1_000 } } },
      );
      const p = x.make();
      const cached = await p.generate(request(x.model));
      expect(cached.usage).toMatchObject({ inputTokens: 2_000, cachedInputTokens: 8_000, outputTokens: 200 });
      const thinking = await p.generate(request(x.model));
      expect(thinking.text).toBe('Answer.');
      expect(thinking.usage).toMatchObject({ outputTokens: 90, thinkingTokens: 1_500, cacheWriteTokens: 0 });
      const long = await p.generate(request(x.model));
      expect(long.usage).toMatchObject({ inputTokens: 250_000, cachedInputTokens: 0, outputTokens: 1_000 });
    },
  );

  it('bills tool-use prompt tokens as input', async () => {
    gemini.script(t.model, { ok: { usage: { promptTokenCount: 100, toolUsePromptTokenCount: 40 } } });
    expect((await t.make().generate(request(t.model))).usage.inputTokens).toBe(140);
  });

  it('takes the wait from google.rpc.RetryInfo when there is no Retry-After header', async () => {
    gemini.script(t.model, { status: 429, retryDelay: '3.5s' });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err).toMatchObject({ kind: 'rate_limited', opts: { retryAfterMs: 3500 } });
  });

  it('keeps the response headers of concurrent calls apart', async () => {
    gemini.script('gemini-a', { delayMs: 100, status: 429, retryAfter: '7' });
    gemini.script('gemini-b', { status: 429, retryAfter: '1' });
    const p = t.make();
    const [a, b] = await Promise.all([
      failure(p.generate(request('gemini-a'))),
      failure(p.generate(request('gemini-b'))),
    ]);
    expect([a.opts.retryAfterMs, b.opts.retryAfterMs]).toEqual([7000, 1000]);
  });
});

describe('Anthropic usage shapes', () => {
  it.each(targets.filter((x) => x.family === 'anthropic'))(
    '$label: cached, thinking, long context',
    async (x) => {
      anthropic.script(
        x.model,
        {
          ok: {
            usage: { input_tokens: 50, cache_read_input_tokens: 8_000, cache_creation_input_tokens: 1_200 },
          },
        },
        { ok: { text: 'Answer.', thinking: 'Let me think…', usage: { output_tokens: 900 } } },
        { ok: { usage: { input_tokens: 250_000, output_tokens: 1_000 } } },
      );
      const p = x.make();
      expect((await p.generate(request(x.model))).usage).toEqual({
        inputTokens: 50,
        cachedInputTokens: 8_000,
        cacheWriteTokens: 1_200,
        outputTokens: 50,
        thinkingTokens: 0,
      });
      const thinking = await p.generate(request(x.model));
      expect(thinking.text).toBe('Answer.');
      expect(thinking.usage).toMatchObject({ outputTokens: 900, thinkingTokens: 0 });
      const long = await p.generate(request(x.model));
      expect(long.usage).toMatchObject({ inputTokens: 250_000, outputTokens: 1_000 });
    },
  );

  it('prefers retry-after-ms over Retry-After, and still makes one call despite x-should-retry', async () => {
    const t = targets[2]!;
    anthropic.script(t.model, { status: 429, retryAfter: '30', retryAfterMs: 1250 });
    const err = await failure(t.make().generate(request(t.model)));
    expect(err).toMatchObject({ kind: 'rate_limited', opts: { retryAfterMs: 1250 } });
    expect(anthropic.lastRequest()!.headers['x-stainless-retry-count']).toBe('0');
    expect(anthropic.callCount()).toBe(1);
  });
});
