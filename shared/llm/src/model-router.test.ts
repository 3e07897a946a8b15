import { parseSettings } from '@raptorflow/core/config/settings';
import { ModelUnavailableError, ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { CatalogError } from './catalog-override.schema';
import { buildModelCatalog } from './model-catalog.builder';
import { ModelRouter } from './model-router';

const catalog = buildModelCatalog();
const at = (iso: string) => () => new Date(iso);
const router = (env: Record<string, string>, now = at('2026-11-30T12:00:00Z')) =>
  new ModelRouter({ settings: parseSettings(env).llm, catalog, now });

describe('ModelRouter and the catalog', () => {
  it('resolves the default aliases to current models with prices from the catalog', () => {
    const r = router({});
    expect(r.resolve('fast').chain.map((c) => c.model)).toEqual(['gemini-3.8-flash', 'claude-haiku-4-5']);
    expect(r.resolve('heavy').chain[0]!.pricing.base.output).toBe(10_000);
  });

  it('skips a retired model in a chain: the call moves on to the next', () => {
    const r = router(
      { MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash' },
      at('2026-12-02T00:00:00Z'),
    );
    expect(r.resolve('fast').chain.map((c) => c.model)).toEqual(['gemini-3.8-flash']);
    // The day before, it is still served.
    const before = router(
      { MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash' },
      at('2026-11-30T23:00:00Z'),
    );
    expect(before.resolve('fast').chain[0]!.model).toBe('gemini-2.5-flash');
  });

  it('refuses an alias whose every model is retired, naming the variable', () => {
    const r = router({ MODEL_HEAVY: 'anthropic:claude-sonnet-4-5' });
    expect(() => r.resolve('heavy')).toThrow(ModelUnavailableError);
    expect(() => r.resolve('heavy')).toThrow(/MODEL_HEAVY/);
  });

  it('refuses a retired, unknown or unbillable model id asked for directly (422 on body.model)', () => {
    const r = router({});
    for (const [id, why] of [
      ['claude-sonnet-4-5-20250929', /retired \(since 2026-11-30\)/],
      ['gpt-9', /unknown model/],
      ['gemini-1.5-flash', /cannot be billed exactly/],
    ] as const) {
      let err: unknown;
      try {
        r.resolve(id);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as Error).message).toMatch(why);
    }
    expect(r.resolve('claude-sonnet-5@20260315').chain[0]!.entry.id).toBe('claude-sonnet-5');
  });

  it('refuses at start-up, listing every bad chained model at once', () => {
    let err: unknown;
    try {
      router({ MODEL_FAST: 'gemini:gemini-9-ultra', MODEL_STANDARD: 'gemini:gemini-1.5-flash' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CatalogError);
    expect((err as CatalogError).problems).toEqual([
      expect.stringMatching(/^MODEL_FAST: gemini:gemini-9-ultra is not in the model catalog/),
      expect.stringMatching(/^MODEL_STANDARD: gemini:gemini-1.5-flash: gemini-1.5-flash: cache read/),
    ]);
  });

  it('warns about configured models retiring within 30 days, not about later ones', () => {
    const env = {
      MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash',
      MODEL_STANDARD: 'gemini:gemini-2.5-flash',
    };
    expect(router(env, at('2026-11-15T00:00:00Z')).retirementWarnings()).toEqual([
      { model: 'gemini-2.5-flash', aliases: ['fast', 'standard'], retires_on: '2026-12-01', days: 16 },
    ]);
    expect(router(env, at('2026-10-01T00:00:00Z')).retirementWarnings()).toEqual([]);
    expect(router({}).retirementWarnings()).toEqual([]);
  });

  it('gives the retirement gauge every configured model: days left, negative once past, Infinity undated', () => {
    const env = { MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash' };
    const fast = (now: string) =>
      router(env, at(now))
        .retirementDays()
        .filter((r) => r.alias === 'fast');
    expect(fast('2026-11-15T00:00:00Z')).toEqual([
      { alias: 'fast', model: 'gemini-2.5-flash', days: 16 },
      { alias: 'fast', model: 'gemini-3.8-flash', days: Number.POSITIVE_INFINITY },
    ]);
    expect(fast('2026-12-03T00:00:00Z')[0]!.days).toBe(-2);
    // Every alias is listed, so the gauge shows the whole configuration even when nothing retires.
    expect(
      new Set(
        router({})
          .retirementDays()
          .map((r) => r.alias),
      ),
    ).toEqual(new Set(['fast', 'standard', 'heavy', 'embed']));
  });

  it('describes each alias for /health: model, provider, live|local, retires_on, and its chain', () => {
    const dev = router(
      { MODEL_FAST: 'gemini:gemini-2.5-flash,anthropic:claude-haiku-4-5' },
      at('2026-12-05T00:00:00Z'),
    );
    const fast = dev.aliasStatus().find((a) => a.alias === 'fast')!;
    // The retired primary is listed in the chain; the alias shows the model actually in service.
    expect(fast).toMatchObject({
      model: 'claude-haiku-4-5',
      provider: 'anthropic',
      mode: 'local',
      retired: false,
    });
    expect(fast.chain[0]).toEqual({
      model: 'gemini-2.5-flash',
      provider: 'gemini',
      mode: 'local',
      retires_on: '2026-12-01',
      retired: true,
    });
    const live = router({ GEMINI_API_KEY: 'k' })
      .aliasStatus()
      .find((a) => a.alias === 'fast')!;
    expect(live).toMatchObject({ model: 'gemini-3.8-flash', mode: 'live', retires_on: null });
    expect(live.chain[1]).toMatchObject({ model: 'claude-haiku-4-5', mode: 'local' });
  });
});
