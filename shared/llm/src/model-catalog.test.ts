import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogError, loadCatalogOverride } from './catalog-override.schema';
import type { CatalogOverride } from './catalog-override.schema';
import { buildModelCatalog, catalogPackageVersion } from './model-catalog.builder';
import { costNanoUsd, nanoToDecimal } from '@raptorflow/core/money/money';

const catalog = buildModelCatalog();
const day = (d: string) => new Date(`${d}T12:00:00Z`);
const with_ = (override: CatalogOverride) =>
  buildModelCatalog({ override: { override, hash: 'abc123abc123' } });

function catalogErrorOf(fn: () => unknown): CatalogError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return err as CatalogError;
  }
  throw new Error('no CatalogError');
}

describe('model catalog from the pinned price package', () => {
  it('stamps the package version, and the override hash when there is one', () => {
    expect(catalogPackageVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(catalog.version).toBe(`@pydantic/genai-prices@${catalogPackageVersion()}`);
    expect(with_({ models: [] }).version).toBe(
      `@pydantic/genai-prices@${catalogPackageVersion()}+abc123abc123`,
    );
  });

  it('converts the current defaults to exact integers (thousandths of a USD per 1M tokens)', () => {
    const flash = catalog.lookup('gemini-3.8-flash')!;
    expect(flash.provider).toBe('gemini');
    expect(catalog.pricingAt(flash, day('2026-11-30')).base).toEqual({
      input: 750,
      output: 3750,
      cachedInput: 75,
      cacheWrite: 750,
    });
    const sonnet = catalog.lookup('claude-sonnet-5')!;
    expect(sonnet.provider).toBe('anthropic');
    expect(catalog.pricingAt(sonnet, day('2026-11-30')).base).toEqual({
      input: 2000,
      output: 10000,
      cachedInput: 200,
      cacheWrite: 2500,
    });
    const pro = catalog.pricingAt(catalog.lookup('gemini-3.1-pro-preview')!, day('2026-11-30'));
    expect(pro.longContextThreshold).toBe(200_000);
    expect(pro.longContext!.output).toBe(18_000);
  });

  it('keeps announced price changes as dated periods: a call is priced by the prices of its day', () => {
    const flash = catalog.lookup('gemini-3.8-flash')!;
    const usage = {
      inputTokens: 1_000_000,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      thinkingTokens: 0,
    };
    expect(nanoToDecimal(costNanoUsd(catalog.pricingAt(flash, day('2026-12-31')), usage))).toBe(
      '0.750000000',
    );
    expect(nanoToDecimal(costNanoUsd(catalog.pricingAt(flash, day('2027-01-01')), usage))).toBe(
      '1.500000000',
    );
  });

  it('prices dated and Vertex @version ids as their base model', () => {
    for (const id of ['claude-sonnet-5-20260315', 'claude-sonnet-5@20260315', 'gemini-3.8-flash-001'])
      expect(catalog.lookup(id)?.id).toBe(id.startsWith('claude') ? 'claude-sonnet-5' : 'gemini-3.8-flash');
    expect(catalog.lookup('gpt-9')).toBeUndefined();
  });

  it('marks a catalog model whose price is finer than the exact unit unusable, naming it and the price', () => {
    const old = catalog.lookup('gemini-1.5-flash')!;
    expect(old.unusable).toMatch(
      /^gemini-1.5-flash: cache read \$0.01875, cache read \(long context\) \$0.0375 per 1M tokens cannot be represented exactly/,
    );
  });

  it('knows the retirement dates it ships and judges them by the day', () => {
    const sonnet45 = catalog.lookup('claude-sonnet-4-5-20250929')!;
    expect(sonnet45.retiresOn).toBe('2026-11-30');
    expect(catalog.isRetired(sonnet45, new Date('2026-11-29T23:59:59Z'))).toBe(false);
    expect(catalog.isRetired(sonnet45, new Date('2026-11-30T00:00:00Z'))).toBe(true);
    expect(catalog.daysUntilRetirement(catalog.lookup('gemini-2.5-pro')!, day('2026-11-15'))).toBe(16);
  });
});

describe('the operator file (MODEL_CATALOG_FILE)', () => {
  it('adds a model the catalog does not know, with its Vertex id, limits and retirement', () => {
    const c = with_({
      models: [
        {
          id: 'claude-sonnet-5-5',
          provider: 'anthropic',
          ids: ['claude-sonnet-5-5@20261015'],
          prices: {
            input_mtok: 3,
            output_mtok: 15,
            cache_read_mtok: 0.3,
            long_context: { above_input_tokens: 200_000, input_mtok: 6, output_mtok: 22.5 },
          },
          max_output_tokens: 128_000,
          retires_on: '2027-11-30',
        },
      ],
    });
    // Its exact id wins over the catalog's `claude-sonnet-5` prefix rule.
    const e = c.lookup('claude-sonnet-5-5@20261015')!;
    expect(e).toMatchObject({
      id: 'claude-sonnet-5-5',
      origin: 'operator',
      maxOutputTokens: 128_000,
      retiresOn: '2027-11-30',
    });
    const p = c.pricingAt(e, day('2026-12-01'));
    expect(p.base).toEqual({ input: 3000, output: 15000, cachedInput: 300, cacheWrite: 3000 });
    expect(p.longContext).toEqual({ input: 6000, output: 22500, cachedInput: 6000, cacheWrite: 6000 });
    expect(c.lookup('claude-sonnet-5')!.id).toBe('claude-sonnet-5');
  });

  it('overrides a catalog model: its prices replace every period, other fields merge', () => {
    const c = with_({
      models: [
        { id: 'gemini-3.8-flash', prices: { input_mtok: 1, output_mtok: 4 }, retires_on: '2027-06-01' },
      ],
    });
    const e = c.lookup('gemini-3.8-flash')!;
    expect(e).toMatchObject({
      origin: 'catalog+operator',
      provider: 'gemini',
      retiresOn: '2027-06-01',
      maxOutputTokens: 65_536,
    });
    expect(c.pricingAt(e, day('2027-02-01')).base.input).toBe(1000);
  });

  it('clears a retirement with null', () => {
    const c = with_({ models: [{ id: 'claude-sonnet-4-5', retires_on: null }] });
    expect(c.isRetired(c.lookup('claude-sonnet-4-5')!, day('2027-01-01'))).toBe(false);
  });

  it('refuses a price that cannot be represented exactly, naming the model', () => {
    const err = catalogErrorOf(() =>
      with_({ models: [{ id: 'gemini-x', prices: { input_mtok: 0.0001, output_mtok: 1 } }] }),
    );
    expect(err.problems).toEqual([
      expect.stringMatching(/gemini-x: input \$0.0001 per 1M tokens cannot be represented exactly/),
    ]);
  });

  it('lists every problem at once: missing provider, missing prices, inexact price', () => {
    const err = catalogErrorOf(() =>
      with_({
        models: [
          { id: 'mistral-large', prices: { input_mtok: 1, output_mtok: 2 } },
          { id: 'gemini-9-ultra' },
          { id: 'claude-x', prices: { input_mtok: 1, output_mtok: 2.00005 } },
        ],
      }),
    );
    expect(err.problems).toHaveLength(3);
    expect(err.problems[0]).toMatch(/models\.0\.provider: required for "mistral-large"/);
    expect(err.problems[1]).toMatch(/models\.1\.prices: required for "gemini-9-ultra"/);
    expect(err.problems[2]).toMatch(/claude-x: output \$2.00005/);
  });

  describe('read from a file', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-catalog-'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };

    it('validates with zod and reports every error with its path', () => {
      const f = write(
        'bad.json',
        JSON.stringify({
          models: [
            { id: 'gemini-3.8-flash', retires_on: '2027-13-40', max_output_tokens: -1 },
            { id: 'claude-sonnet-5', prices: { input_mtok: 'three', output_mtok: 15 }, colour: 'red' },
          ],
        }),
      );
      const err = catalogErrorOf(() => loadCatalogOverride(f));
      const text = err.problems.join('\n');
      expect(err.problems.length).toBeGreaterThanOrEqual(4);
      for (const p of [
        'models.0.retires_on',
        'models.0.max_output_tokens',
        'models.1.prices.input_mtok',
        'models.1',
      ])
        expect(text).toContain(p);
      expect(text).toContain('colour');
    });

    it('says when the file is missing or not JSON', () => {
      expect(catalogErrorOf(() => loadCatalogOverride(path.join(dir, 'nope.json'))).message).toMatch(
        /cannot read .*ENOENT/,
      );
      expect(catalogErrorOf(() => loadCatalogOverride(write('x.json', '{models:'))).message).toMatch(
        /is not JSON/,
      );
    });

    it('hashes the file into the pricing version, so a changed file is a new version', () => {
      const body = { models: [{ id: 'gemini-3.8-flash', max_output_tokens: 1000 }] };
      const a = buildModelCatalog({ overrideFile: write('a.json', JSON.stringify(body)) });
      const b = buildModelCatalog({ overrideFile: write('b.json', JSON.stringify(body, null, 2)) });
      expect(a.version).toMatch(/\+[0-9a-f]{12}$/);
      expect(a.version).not.toBe(b.version);
      expect(a.lookup('gemini-3.8-flash')!.maxOutputTokens).toBe(1000);
    });
  });
});
