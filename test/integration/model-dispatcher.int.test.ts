import {
  FAKE_ANTHROPIC_KEY,
  FAKE_GEMINI_KEY,
  fakeProviderEnv,
  dispatchHelpers,
  newDispatcher,
  useFakeProviders,
} from '../support/llm';
import { abortWhen } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The ModelDispatcher with the real @google/genai and @anthropic-ai/sdk clients against fake servers that
 * speak the providers' wire formats, over real PostgreSQL: each case asserts the cost, the cost row, the
 * audit row, the budget counters and how many calls each fake saw.
 */
const stack = openStack();
const fakes = useFakeProviders();
afterAll(() => stack.close());

const { ask, workspace, trail } = dispatchHelpers(stack);
// The default fast chain crosses to Anthropic; these cases want two Gemini models in a row.
const GEMINI_ONLY_FAST = 'gemini:gemini-3.8-flash,gemini:gemini-3.1-pro-preview';

describe('success with each usage shape', () => {
  it('fast → Gemini Flash: cost, cost row, audit row with digests only, settled budget, cost.recorded', async () => {
    const { owner, ws } = await workspace();
    fakes.gemini.script('gemini-3.8-flash', {
      ok: { text: 'Fresh daily.', usage: { promptTokenCount: 1000, candidatesTokenCount: 500 } },
    });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const r = await dispatcher.dispatch(
      { model: 'fast', messages: ask(), system: 'You are terse.', maxTokens: 800 },
      { workspaceId: ws.id, actorUserId: owner.id, correlationId: 'corr-1' },
    );
    expect(r).toMatchObject({
      text: 'Fresh daily.',
      model: 'gemini-3.8-flash',
      provider: 'gemini',
      alias: 'fast',
    });
    expect(r.costUsd).toBe(0.002625);
    const body = fakes.gemini.lastRequest('gemini-3.8-flash')!.body;
    expect(JSON.stringify(body)).toContain('You are terse.');
    expect(body.generationConfig.maxOutputTokens).toBe(800);

    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(1);
    expect(t.costs[0]).toMatchObject({
      provider: 'gemini',
      model: 'gemini-3.8-flash',
      alias: 'fast',
      input_tokens: 1000,
      output_tokens: 500,
      cost_usd: '0.0026250000',
      outcome: 'success',
      correlation_id: 'corr-1',
      actor_user_id: owner.id,
      pricing_version: expect.any(String),
    });
    expect(t.costs[0].latency_ms).toBeGreaterThanOrEqual(0);
    expect(t.audits).toHaveLength(1);
    const audit = t.audits[0];
    expect(audit).toMatchObject({ tool_name: 'model.dispatch', actor_type: 'user', actor_id: owner.id });
    expect(audit.input.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(audit.output.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(audit)).not.toContain('bakery');
    expect(t.usage).toMatchObject({ spent_usd: '0.0026250000', reserved_usd: '0.0000000000', calls: 1 });
    expect(t.reservations).toHaveLength(1);
    expect(t.reservations[0]).toMatchObject({ status: 'settled', settled_cost_usd: '0.0026250000' });
    expect(t.outbox).toHaveLength(1);
    expect(t.outbox[0].envelope.payload).toEqual({
      cost_log_id: t.costs[0].id,
      model: 'gemini-3.8-flash',
      cost_usd: '0.002625000',
    });
  });

  it.each([
    [
      'cached (counted once, at the cached price)',
      { promptTokenCount: 1000, cachedContentTokenCount: 800, candidatesTokenCount: 100 },
      { input_tokens: 200, cached_input_tokens: 800, output_tokens: 100, thinking_tokens: 0 },
      '0.0005850000',
    ],
    [
      'thinking (billed as output)',
      { promptTokenCount: 1000, candidatesTokenCount: 200, thoughtsTokenCount: 800 },
      { input_tokens: 1000, cached_input_tokens: 0, output_tokens: 200, thinking_tokens: 800 },
      '0.0045000000',
    ],
  ])('Gemini Flash %s', async (_name, usage, tokens, cost) => {
    const { ws } = await workspace();
    fakes.gemini.script('gemini-3.8-flash', { ok: { text: 'ok', usage } });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    await dispatcher.dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id });
    const t = await trail(ws.id);
    expect(t.costs[0]).toMatchObject({ ...tokens, cost_usd: cost });
    expect(t.usage.spent_usd).toBe(cost);
  });

  it('Gemini Pro long context (> 200k prompt tokens) at the long-context price', async () => {
    const { ws } = await workspace();
    fakes.gemini.script('gemini-3.1-pro-preview', {
      ok: {
        text: 'ok',
        usage: { promptTokenCount: 250_000, candidatesTokenCount: 2000, thoughtsTokenCount: 1000 },
      },
    });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const r = await dispatcher.dispatch({ model: 'standard', messages: ask() }, { workspaceId: ws.id });
    expect(r.costUsd).toBe(1.054);
    expect((await trail(ws.id)).costs[0].cost_usd).toBe('1.0540000000');
  });

  it('heavy → Claude Sonnet with cache read and cache write', async () => {
    const { ws } = await workspace();
    fakes.anthropic.script('claude-sonnet-5', {
      ok: {
        text: 'Bold.',
        usage: {
          input_tokens: 100,
          output_tokens: 300,
          cache_read_input_tokens: 10_000,
          cache_creation_input_tokens: 2000,
        },
      },
    });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const r = await dispatcher.dispatch(
      { model: 'heavy', messages: ask(), system: 'sys' },
      { workspaceId: ws.id },
    );
    expect(r).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-5', costUsd: 0.0102 });
    expect(fakes.anthropic.lastRequest()!.body.system).toBe('sys');
    const t = await trail(ws.id);
    expect(t.costs[0]).toMatchObject({
      cached_input_tokens: 10_000,
      cache_write_tokens: 2000,
      cost_usd: '0.0102000000',
    });
  });
});

describe('resilience', () => {
  it('429 with Retry-After, then success: waits as told, one cost row, attempts recorded', async () => {
    const { ws } = await workspace();
    fakes.gemini.script('gemini-3.8-flash', { status: 429, retryAfter: '1' }, { ok: { text: 'late' } });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const started = Date.now();
    const r = await dispatcher.dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r).toMatchObject({ text: 'late', attempts: 2 });
    expect(fakes.gemini.callCount('gemini-3.8-flash')).toBe(2);
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(1);
    expect(t.costs[0]).toMatchObject({ outcome: 'success', attempts: 2 });
  });

  it('500 on every attempt → falls back to the next model of the chain (and raises the reservation)', async () => {
    const { ws } = await workspace();
    fakes.gemini.setDefault({ status: 500 }, 'gemini-3.1-pro-preview');
    fakes.anthropic.script('claude-sonnet-5', {
      ok: { text: 'from claude', usage: { input_tokens: 1000, output_tokens: 1000 } },
    });
    const { dispatcher, settings } = newDispatcher(stack, fakeProviderEnv(fakes));
    const r = await dispatcher.dispatch({ model: 'standard', messages: ask() }, { workspaceId: ws.id });
    expect(r).toMatchObject({
      text: 'from claude',
      provider: 'anthropic',
      model: 'claude-sonnet-5',
      costUsd: 0.012,
    });
    expect(fakes.gemini.callCount('gemini-3.1-pro-preview')).toBe(settings.maxAttempts);
    expect(fakes.anthropic.callCount()).toBe(1);
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(1);
    expect(t.costs[0]).toMatchObject({ provider: 'anthropic', attempts: settings.maxAttempts + 1 });
    expect(t.usage).toMatchObject({ spent_usd: '0.0120000000', reserved_usd: '0.0000000000' });
  });

  it('a malformed body is not retried on the same model: the chain falls back at once', async () => {
    const { ws } = await workspace();
    fakes.gemini.script('gemini-3.8-flash', { malformed: 'wrong-shape' });
    fakes.gemini.script('gemini-3.1-pro-preview', { ok: { text: 'pro answered' } });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes, { MODEL_FAST: GEMINI_ONLY_FAST }));
    const r = await dispatcher.dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id });
    expect(r).toMatchObject({ text: 'pro answered', model: 'gemini-3.1-pro-preview' });
    expect(fakes.gemini.callCount('gemini-3.8-flash')).toBe(1);
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(1);
    expect(t.costs[0]).toMatchObject({ model: 'gemini-3.1-pro-preview', outcome: 'success', attempts: 2 });
    expect(t.costs[0].cost_usd).toBe(t.usage.spent_usd);
    expect(t.audits).toHaveLength(1);
    expect(t.audits[0].metadata).toMatchObject({
      outcome: 'success',
      model: 'gemini-3.1-pro-preview',
      attempts: 2,
    });
  });

  it('a hung connection times out; with no model left → 504 model_timeout, a failed cost row, nothing spent', async () => {
    const { ws } = await workspace();
    fakes.anthropic.setDefault({ hang: true }, 'claude-sonnet-5');
    const env = fakeProviderEnv(fakes, { LLM_TIMEOUT_MS: '300', LLM_MAX_ATTEMPTS: '2' });
    const { dispatcher } = newDispatcher(stack, env);
    const started = Date.now();
    const err = await dispatcher
      .dispatch({ model: 'claude-sonnet-5', messages: ask() }, { workspaceId: ws.id })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toMatchObject({ code: 'model_timeout', status: 504 });
    expect(fakes.anthropic.callCount()).toBe(2);
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(1);
    expect(t.costs[0]).toMatchObject({
      outcome: 'failed',
      error_code: 'model_timeout',
      cost_usd: '0.0000000000',
    });
    expect(t.audits[0].metadata).toMatchObject({ outcome: 'failed', error_code: 'model_timeout' });
    expect(t.reservations[0].status).toBe('released');
    expect(t.usage).toMatchObject({ spent_usd: '0.0000000000', reserved_usd: '0.0000000000' });
  });

  it('a caller abort stops the in-flight call: cancelled, reservation released', async () => {
    const { ws } = await workspace();
    fakes.gemini.setDefault({ hang: true }, 'gemini-3.8-flash');
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const before = fakes.gemini.callCount('gemini-3.8-flash');
    const abort = abortWhen(() => fakes.gemini.callCount('gemini-3.8-flash') > before);
    const started = Date.now();
    const err = await dispatcher
      .dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id, signal: abort.signal })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toMatchObject({ code: 'cancelled' });
    const t = await trail(ws.id);
    expect(t.costs[0]).toMatchObject({ outcome: 'cancelled' });
    expect(t.reservations[0].status).toBe('released');
    expect(fakes.gemini.callCount('gemini-3.8-flash')).toBe(1);
  });

  it('never writes an API key into errors, cost rows or audit rows', async () => {
    const { ws } = await workspace();
    fakes.gemini.setDefault({ status: 401, message: 'bad key' }, 'gemini-3.8-flash');
    fakes.gemini.setDefault({ status: 403, message: 'bad key' }, 'gemini-3.1-pro-preview');
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes, { MODEL_FAST: GEMINI_ONLY_FAST }));
    const err = await dispatcher
      .dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'model_unavailable', status: 502 });
    const everything = JSON.stringify([err.message, err.details, await trail(ws.id)]);
    expect(everything).not.toContain(FAKE_GEMINI_KEY);
    expect(everything).not.toContain(FAKE_ANTHROPIC_KEY);
  });
});
