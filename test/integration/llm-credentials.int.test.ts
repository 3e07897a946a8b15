import { GoogleAuth } from 'google-auth-library';
import { ProviderError } from '@raptorflow/llm/llm.types';
import { AnthropicProvider } from '@raptorflow/llm/providers/anthropic.provider';
import { GeminiProvider } from '@raptorflow/llm/providers/gemini.provider';
import { dispatchHelpers, newDispatcher, useFakeProviders } from '../support/llm';
import { openStack } from '../support/stack';

/**
 * Missing Google credentials (Vertex AI for Gemini and for Claude) are a configuration error: reported as
 * `credentials`, never sent to the provider, never retried as if the network had blinked.
 */
const stack = openStack();
const fakes = useFakeProviders();
afterAll(() => stack.close());
const { ask, workspace, trail } = dispatchHelpers(stack);
const MISSING_KEY_FILE = '/nonexistent/raptorflow-adc.json';
const request = (model: string) => ({
  model,
  messages: ask(),
  maxTokens: 10,
  signal: new AbortController().signal,
});

async function errorOf(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

it('Gemini on Vertex AI with an unreadable key file: kind credentials, nothing sent', async () => {
  const gemini = new GeminiProvider({
    vertex: { project: 'rf-test', location: 'us-central1' },
    baseUrl: fakes.gemini.url,
    googleAuthOptions: { keyFilename: MISSING_KEY_FILE },
  });
  const err = await errorOf(gemini.generate(request('gemini-3.8-flash')));
  expect(err.kind).toBe('credentials');
  expect(err.retryable).toBe(false);
  expect(fakes.gemini.callCount()).toBe(0);
});

it('Claude on Vertex AI with an unreadable key file: kind credentials, nothing sent', async () => {
  const claude = new AnthropicProvider({
    vertex: { projectId: 'rf-test', region: 'us-east5' },
    baseUrl: `${fakes.anthropic.url}/v1`,
    googleAuth: new GoogleAuth({
      keyFilename: MISSING_KEY_FILE,
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    }),
  });
  const err = await errorOf(claude.generate(request('claude-sonnet-5@20260315')));
  expect(err.kind).toBe('credentials');
  expect(fakes.anthropic.callCount()).toBe(0);
});

it('through the dispatcher: one attempt per model, not the retry budget, and a failed cost row', async () => {
  const { ws } = await workspace();
  const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  // google-auth-library reads this variable itself; the service reads its own settings elsewhere.
  process.env.GOOGLE_APPLICATION_CREDENTIALS = MISSING_KEY_FILE;
  try {
    const { dispatcher, settings } = newDispatcher(stack, {
      GOOGLE_CLOUD_PROJECT: 'rf-test',
      GEMINI_BASE_URL: fakes.gemini.url,
      MODEL_FAST: 'gemini:gemini-3.8-flash,gemini:gemini-3.1-pro-preview',
      LLM_RETRY_BASE_MS: '10',
    });
    expect(settings.maxAttempts).toBeGreaterThan(1);
    const err = (await dispatcher
      .dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id })
      .catch((e: unknown) => e)) as { code: string; details: { attempts: { kind: string }[] } };
    expect(err.code).toBe('model_unavailable');
    expect(err.details.attempts.map((a) => a.kind)).toEqual(['credentials', 'credentials']);
    expect(fakes.gemini.callCount()).toBe(0);
    expect((await trail(ws.id)).costs[0]).toMatchObject({ outcome: 'failed', cost_usd: '0.0000000000' });
  } finally {
    if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
  }
});
