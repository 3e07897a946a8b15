import { ProviderError } from '@raptorflow/llm/llm.types';
import type { EmbedProviderRequest } from '@raptorflow/llm/llm.types';
import { GeminiProvider } from '@raptorflow/llm/providers/gemini.provider';
import { FakeGeminiServer } from '../support/fake-llm';
import { fakeEmbedding } from '../support/fake-llm/fake-gemini.server';
import { abortWhen } from '../support/http';
import { ACCESS_TOKEN, GEMINI_KEY, vertexAuth } from '../support/fake-llm/provider-targets.fixture';

// The real @google/genai SDK against the fake Gemini server, in both of its embedding wire formats.
const gemini = new FakeGeminiServer();
const MODEL = 'gemini-embedding-001';

interface Target {
  label: 'Gemini API key' | 'Gemini Vertex';
  vertex: boolean;
  /** The exact path the SDK calls, and the auth header it sends. */
  wire: { path: string; auth: [header: string, value: string] };
  make(baseUrl?: string): GeminiProvider;
}

const targets: Target[] = [
  {
    label: 'Gemini API key',
    vertex: false,
    wire: { path: `/v1beta/models/${MODEL}:batchEmbedContents`, auth: ['x-goog-api-key', GEMINI_KEY] },
    make: (url = gemini.url) => new GeminiProvider({ apiKey: GEMINI_KEY, baseUrl: url }),
  },
  {
    label: 'Gemini Vertex',
    vertex: true,
    wire: {
      path: `/v1beta1/projects/rf-test/locations/us-central1/publishers/google/models/${MODEL}:predict`,
      auth: ['authorization', `Bearer ${ACCESS_TOKEN}`],
    },
    make: (url = gemini.url) =>
      new GeminiProvider({
        vertex: { project: 'rf-test', location: 'us-central1' },
        baseUrl: url,
        googleAuthOptions: { authClient: vertexAuth() },
      }),
  },
];

const TEXTS = ['Fresh sourdough every morning.', 'Croissants, baked in butter.', 'Open on Sundays.'];

function embedRequest(over: Partial<EmbedProviderRequest> = {}): EmbedProviderRequest {
  return {
    model: MODEL,
    texts: TEXTS,
    dimensions: 8,
    task: 'document',
    signal: new AbortController().signal,
    ...over,
  };
}

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
  await gemini.start();
});
afterEach(() => gemini.reset());
afterAll(async () => {
  await gemini.stop();
  expect(seenMessages.length).toBeGreaterThan(20);
  for (const m of seenMessages)
    for (const secret of [GEMINI_KEY, ACCESS_TOKEN]) expect(m).not.toContain(secret);
});

describe.each(targets)('$label', (t) => {
  it('returns one vector per text, in order, each of the requested length, from one request', async () => {
    const res = await t.make().embed(embedRequest());
    expect(res.vectors).toEqual(TEXTS.map((text) => fakeEmbedding(text, 8)));
    expect(res.vectors.map((v) => v.length)).toEqual([8, 8, 8]);
    expect(res.model).toBe(MODEL);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it('sends a batch of 100 texts as a single request', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `text number ${i}`);
    const res = await t.make().embed(embedRequest({ texts, dimensions: 768 }));
    expect(res.vectors).toHaveLength(100);
    expect(res.vectors[42]).toEqual(fakeEmbedding('text number 42', 768));
    expect(gemini.callCount()).toBe(1);
  });

  it.each([
    ['document', 'RETRIEVAL_DOCUMENT'],
    ['query', 'RETRIEVAL_QUERY'],
  ] as const)(
    'puts task %s as %s, the dimensions and the credentials on the wire',
    async (task, taskType) => {
      await t.make().embed(embedRequest({ task, dimensions: 256 }));
      const { body, headers, path } = gemini.lastRequest(MODEL)!;
      expect(path).toBe(t.wire.path);
      expect(headers[t.wire.auth[0]]).toBe(t.wire.auth[1]);
      if (t.vertex) {
        // Vertex's prediction format: snake_case task_type per instance, camelCase parameters for the batch.
        expect(body).toEqual({
          instances: TEXTS.map((content) => ({ content, task_type: taskType })),
          parameters: { outputDimensionality: 256 },
        });
      } else {
        expect(headers.authorization).toBeUndefined();
        expect(body.requests).toHaveLength(TEXTS.length);
        body.requests.forEach((r: any, i: number) => {
          expect(r).toMatchObject({
            model: `models/${MODEL}`,
            taskType,
            outputDimensionality: 256,
            content: { parts: [{ text: TEXTS[i] }] },
          });
        });
      }
    },
  );

  it('reports input tokens only where the API gives them (Vertex statistics)', async () => {
    const p = t.make();
    const byDefault = await p.embed(embedRequest());
    if (!t.vertex) {
      expect(byDefault.inputTokens).toBeUndefined();
      return;
    }
    expect(byDefault.inputTokens).toBe(TEXTS.reduce((n, s) => n + Math.ceil(s.length / 4), 0));
    gemini.script(MODEL, { ok: { tokenCounts: [3, 4, 5] } }, { ok: { tokenCounts: false } });
    expect((await p.embed(embedRequest())).inputTokens).toBe(12);
    expect((await p.embed(embedRequest())).inputTokens).toBeUndefined();
  });

  it('reports 429 with Retry-After as rate_limited after exactly one call', async () => {
    gemini.script(MODEL, { status: 429, retryAfter: '2' });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err.kind).toBe('rate_limited');
    expect(err.opts).toMatchObject({ status: 429, retryAfterMs: 2000, provider: 'gemini', model: MODEL });
    expect(err.retryable).toBe(true);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it('takes the wait from google.rpc.RetryInfo when there is no Retry-After header', async () => {
    gemini.script(MODEL, { status: 429, retryDelay: '3.5s' });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err).toMatchObject({ kind: 'rate_limited', opts: { retryAfterMs: 3500 } });
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it.each([500, 503])('reports %i as server_error after exactly one call', async (status) => {
    gemini.script(MODEL, { status });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err.kind).toBe('server_error');
    expect(err.opts.status).toBe(status);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it('reports 400 as a final client_error', async () => {
    gemini.script(MODEL, { status: 400 });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err.kind).toBe('client_error');
    expect(err.retryable).toBe(false);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it.each([
    ['too few vectors', [fakeEmbedding('a', 8), fakeEmbedding('b', 8)], /expected 3 vectors, got 2/],
    ['too many vectors', TEXTS.concat('x').map((s) => fakeEmbedding(s, 8)), /expected 3 vectors, got 4/],
    [
      'a short vector',
      [fakeEmbedding('a', 8), fakeEmbedding('b', 7), fakeEmbedding('c', 8)],
      /vector 1 has 7/,
    ],
    [
      'a long vector',
      [fakeEmbedding('a', 8), fakeEmbedding('b', 8), fakeEmbedding('c', 9)],
      /vector 2 has 9/,
    ],
    [
      'a null in a vector',
      [fakeEmbedding('a', 8), [...fakeEmbedding('b', 7), null], fakeEmbedding('c', 8)],
      /finite/,
    ],
    [
      'a string in a vector',
      [['0.1', ...fakeEmbedding('a', 7)], fakeEmbedding('b', 8), fakeEmbedding('c', 8)],
      /finite/,
    ],
  ])('reports %s as bad_response', async (_label, vectors, message) => {
    gemini.script(MODEL, { ok: { vectors } });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err.kind).toBe('bad_response');
    expect(err.message).toMatch(message);
    expect(err.retryable).toBe(false);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it.each(['not-json', 'html', 'wrong-shape'] as const)(
    'reports a %s 200 body as bad_response',
    async (m) => {
      gemini.script(MODEL, { malformed: m });
      const err = await failure(t.make().embed(embedRequest()));
      expect(err.kind).toBe('bad_response');
      expect(gemini.callCount(MODEL)).toBe(1);
    },
  );

  it('stops a hung call when the signal aborts, reporting aborted', async () => {
    gemini.script(MODEL, { hang: true });
    const before = gemini.callCount(MODEL);
    const ac = abortWhen(() => gemini.callCount(MODEL) > before);
    const started = Date.now();
    const err = await failure(t.make().embed(embedRequest({ signal: ac.signal })));
    expect(err.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(gemini.callCount(MODEL)).toBe(1);
  });

  it('makes no call at all for an already-aborted signal, nor for an empty batch', async () => {
    const err = await failure(t.make().embed(embedRequest({ signal: AbortSignal.abort() })));
    expect(err.kind).toBe('aborted');
    await expect(t.make().embed(embedRequest({ texts: [] }))).resolves.toEqual({
      vectors: [],
      model: MODEL,
      inputTokens: 0,
    });
    expect(gemini.callCount()).toBe(0);
  });

  it('refuses dimensions that are not a positive integer without a call', async () => {
    const err = await failure(t.make().embed(embedRequest({ dimensions: 0 })));
    expect(err.kind).toBe('client_error');
    expect(gemini.callCount()).toBe(0);
  });

  it('waits out a slow answer (delayMs)', async () => {
    gemini.script(MODEL, { delayMs: 150 });
    const started = Date.now();
    await expect(t.make().embed(embedRequest())).resolves.toMatchObject({ model: MODEL });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('reports a refused connection as network', async () => {
    const closed = new FakeGeminiServer();
    const url = await closed.start();
    await closed.stop();
    const err = await failure(t.make(url).embed(embedRequest()));
    expect(err.kind).toBe('network');
  });

  it('keeps a credential echoed by the server out of the error message', async () => {
    gemini.script(MODEL, {
      status: 401,
      message: `invalid credentials: ${GEMINI_KEY} / Bearer ${ACCESS_TOKEN}`,
    });
    const err = await failure(t.make().embed(embedRequest()));
    expect(err.kind).toBe('client_error');
    expect(err.message).toContain('[redacted]');
  });
});

describe('Gemini embeddings beside generateContent', () => {
  it('keeps the response headers of concurrent embedding calls apart', async () => {
    const p = targets[1]!.make();
    gemini.script('gemini-embedding-001', { delayMs: 100, status: 429, retryAfter: '7' });
    gemini.script('text-embedding-005', { status: 429, retryAfter: '1' });
    const [a, b] = await Promise.all([
      failure(p.embed(embedRequest())),
      failure(p.embed(embedRequest({ model: 'text-embedding-005' }))),
    ]);
    expect([a.opts.retryAfterMs, b.opts.retryAfterMs]).toEqual([7000, 1000]);
  });

  it('serves generateContent and embeddings for their own models side by side', async () => {
    const p = targets[0]!.make();
    const [text, vectors] = await Promise.all([
      p.generate({
        model: 'gemini-3.8-flash',
        messages: [{ role: 'user', content: 'Hi' }],
        maxTokens: 32,
        signal: new AbortController().signal,
      }),
      p.embed(embedRequest()),
    ]);
    expect(text.text).toBe('Fake answer from gemini-3.8-flash.');
    expect(vectors.vectors).toHaveLength(TEXTS.length);
    expect(gemini.requests.map((r) => r.path).sort()).toEqual([
      '/v1beta/models/gemini-3.8-flash:generateContent',
      `/v1beta/models/${MODEL}:batchEmbedContents`,
    ]);
  });

  // Given bare strings, the SDK would fold them into one content of three parts for these models (one vector).
  it('keeps a batch a batch for a gemini-embedding-2 model on the Gemini API', async () => {
    const model = 'gemini-embedding-2-preview';
    const res = await targets[0]!.make().embed(embedRequest({ model }));
    expect(res.vectors).toEqual(TEXTS.map((text) => fakeEmbedding(text, 8)));
    const { body, path } = gemini.lastRequest(model)!;
    expect(path).toBe(`/v1beta/models/${model}:batchEmbedContents`);
    expect(body.requests.map((r: any) => r.content.parts)).toEqual(TEXTS.map((text) => [{ text }]));
  });

  // On Vertex the SDK sends every other `gemini*` model to the single-content `:embedContent` method and refuses
  // a batch of more than one text itself, before any request: a final client_error, not something to retry.
  it('reports the SDK refusing a Vertex batch for a single-content model as client_error, with no call', async () => {
    const err = await failure(
      targets[1]!.make().embed(embedRequest({ model: 'gemini-embedding-2-preview' })),
    );
    expect(err.kind).toBe('client_error');
    expect(err.message).toMatch(/one content at a time/);
    expect(gemini.callCount()).toBe(0);
  });
});
