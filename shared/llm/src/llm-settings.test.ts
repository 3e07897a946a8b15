import { ModelRouter } from './model-router';
import { ConfigError, parseSettings } from '@raptorflow/core/config/settings';
import { getModelCatalog } from './model-catalog.builder';

describe('LLM settings', () => {
  it('defaults: current Flash / Pro / Sonnet, each falling back across providers; budgets on', () => {
    const { llm } = parseSettings({});
    expect(llm.aliases.fast.map((r) => `${r.provider}:${r.model}`)).toEqual([
      'gemini:gemini-3.8-flash',
      'anthropic:claude-haiku-4-5',
    ]);
    expect(llm.aliases.standard.map((r) => `${r.provider}:${r.model}`)).toEqual([
      'gemini:gemini-3.1-pro-preview',
      'anthropic:claude-sonnet-5',
    ]);
    expect(llm.aliases.heavy.map((r) => `${r.provider}:${r.model}`)).toEqual([
      'anthropic:claude-sonnet-5',
      'gemini:gemini-3.1-pro-preview',
    ]);
    expect(llm).toMatchObject({ mode: 'auto', budgetEnforcement: true, maxAttempts: 3 });
    expect(llm.reservationTtlMs).toBeGreaterThan(llm.deadlineMs);
  });

  it('without credentials every provider is the offline local one, priced as the model it stands in for', () => {
    const router = new ModelRouter({ settings: parseSettings({}).llm, catalog: getModelCatalog(undefined) });
    expect(router.describe()).toEqual({ gemini: 'local', anthropic: 'local', local: 'local' });
    expect(router.resolve('heavy').chain[0]!.pricing.model).toBe('claude-sonnet-5');
  });

  it('uses a real provider where its credentials are set, unless LLM_PROVIDER=local', () => {
    const env = { GEMINI_API_KEY: 'k', ANTHROPIC_API_KEY: 'a' };
    expect(
      new ModelRouter({ settings: parseSettings(env).llm, catalog: getModelCatalog(undefined) }).describe(),
    ).toMatchObject({
      gemini: 'gemini',
      anthropic: 'anthropic',
    });
    expect(
      new ModelRouter({
        settings: parseSettings({ ...env, LLM_PROVIDER: 'local' }).llm,
        catalog: getModelCatalog(undefined),
      }).describe(),
    ).toMatchObject({ gemini: 'local', anthropic: 'local' });
    const vertex = parseSettings({ GOOGLE_CLOUD_PROJECT: 'p', ANTHROPIC_USE_VERTEX: 'true' }).llm;
    expect(vertex.gemini.vertex).toEqual({ project: 'p', location: 'us-central1' });
    expect(vertex.anthropic.vertex).toEqual({ projectId: 'p', region: 'us-east5' });
  });

  it('parses a configured chain and refuses a malformed one or an unpriced model', () => {
    const { llm } = parseSettings({ MODEL_FAST: 'anthropic:claude-sonnet-5, gemini:gemini-3.8-flash' });
    expect(llm.aliases.fast).toEqual([
      { provider: 'anthropic', model: 'claude-sonnet-5' },
      { provider: 'gemini', model: 'gemini-3.8-flash' },
    ]);
    expect(() => parseSettings({ MODEL_FAST: 'openai:gpt-4' })).toThrow(ConfigError);
    expect(() => parseSettings({ MODEL_HEAVY: 'claude-sonnet-5' })).toThrow(/provider:model/);
    expect(
      () =>
        new ModelRouter({
          settings: parseSettings({ MODEL_FAST: 'gemini:gemini-9-ultra' }).llm,
          catalog: getModelCatalog(undefined),
        }),
    ).toThrow(/gemini-9-ultra is not in the model catalog/);
  });

  it('refuses a reservation TTL that a live call could outlast, and budgets off in production', () => {
    expect(() => parseSettings({ LLM_DEADLINE_MS: '5000', BUDGET_RESERVATION_TTL_MS: '5000' })).toThrow(
      /BUDGET_RESERVATION_TTL_MS must be longer/,
    );
    expect(parseSettings({ BUDGET_ENFORCEMENT: 'false' }).llm.budgetEnforcement).toBe(false);
    let err: unknown;
    try {
      parseSettings({ ENVIRONMENT: 'production', BUDGET_ENFORCEMENT: 'false' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toContain('BUDGET_ENFORCEMENT cannot be turned off in production');
  });
});
