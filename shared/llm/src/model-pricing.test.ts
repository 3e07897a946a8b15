import { costNanoUsd, decimalToNano, nanoToDecimal, worstCaseNanoUsd } from '@raptorflow/core/money/money';
import { buildModelCatalog } from './model-catalog.builder';
import type { TokenUsage } from './llm.types';

// The pinned catalog's prices as they stood on a fixed day, so the expected figures never move.
const catalog = buildModelCatalog();
const pricingFor = (model: string) => {
  const entry = catalog.lookup(model);
  return entry && catalog.pricingAt(entry, new Date('2026-11-01T00:00:00Z'));
};

const u = (p: Partial<TokenUsage>): TokenUsage => ({
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  thinkingTokens: 0,
  ...p,
});

describe('cost math (list prices per 1M tokens, exact decimals)', () => {
  it.each<[string, string, Partial<TokenUsage>, string]>([
    ['flash plain', 'gemini-2.5-flash', { inputTokens: 1000, outputTokens: 500 }, '0.001550000'],
    [
      'flash thinking billed as output',
      'gemini-2.5-flash',
      { inputTokens: 1000, outputTokens: 200, thinkingTokens: 800 },
      '0.002800000',
    ],
    [
      'flash cached at the cached price, once',
      'gemini-2.5-flash',
      { inputTokens: 200, cachedInputTokens: 800, outputTokens: 100 },
      '0.000334000',
    ],
    ['flash one output token', 'gemini-2.5-flash', { outputTokens: 1 }, '0.000002500'],
    ['flash one cached token', 'gemini-2.5-flash', { cachedInputTokens: 1 }, '0.000000030'],
    ['pro base tier', 'gemini-2.5-pro', { inputTokens: 100_000, outputTokens: 1000 }, '0.135000000'],
    ['pro exactly 200k stays base', 'gemini-2.5-pro', { inputTokens: 200_000 }, '0.250000000'],
    ['pro 200,001 goes long', 'gemini-2.5-pro', { inputTokens: 200_001 }, '0.500002500'],
    [
      'pro long context with thinking',
      'gemini-2.5-pro',
      { inputTokens: 250_000, outputTokens: 2000, thinkingTokens: 1000 },
      '0.670000000',
    ],
    [
      'pro long tier reached by cached tokens',
      'gemini-2.5-pro',
      { inputTokens: 150_000, cachedInputTokens: 60_000, outputTokens: 1000 },
      '0.405000000',
    ],
    ['sonnet plain', 'claude-sonnet-4-5', { inputTokens: 1000, outputTokens: 1000 }, '0.018000000'],
    [
      'sonnet cache read + write',
      'claude-sonnet-4-5',
      { inputTokens: 100, cachedInputTokens: 10_000, cacheWriteTokens: 2000, outputTokens: 300 },
      '0.015300000',
    ],
    ['sonnet long context', 'claude-sonnet-4-5', { inputTokens: 300_000, outputTokens: 1000 }, '1.822500000'],
    [
      'sonnet dated id priced as the base model',
      'claude-sonnet-4-5-20250929',
      { inputTokens: 100_000 },
      '0.300000000',
    ],
  ])('%s', (_name, model, usage, expected) => {
    expect(nanoToDecimal(costNanoUsd(pricingFor(model)!, u(usage)))).toBe(expected);
  });

  it('adds a million one-token calls without drift', () => {
    const flash = pricingFor('gemini-2.5-flash')!;
    let total = 0n;
    for (let i = 0; i < 1_000_000; i++) total += costNanoUsd(flash, u({ inputTokens: 1 }));
    expect(nanoToDecimal(total)).toBe('0.300000000');
    let floats = 0;
    for (let i = 0; i < 1_000_000; i++) floats += 0.3 / 1e6;
    expect(floats).not.toBe(0.3); // what the exact integers avoid
  });

  it('prices the worst case as every prompt token uncached and every allowed output token used', () => {
    expect(nanoToDecimal(worstCaseNanoUsd(pricingFor('gemini-2.5-flash')!, 1000, 1000))).toBe('0.002800000');
    expect(nanoToDecimal(worstCaseNanoUsd(pricingFor('claude-sonnet-4-5')!, 250_000, 1000))).toBe(
      '1.522500000',
    );
  });

  it('knows no price for an unknown model', () => {
    expect(pricingFor('gpt-9')).toBeUndefined();
    expect(pricingFor('gemini-2.5-flashy')).toBeUndefined();
  });

  it('round-trips PostgreSQL numerics exactly', () => {
    expect(decimalToNano('0.0015500000')).toBe(1_550_000n);
    expect(decimalToNano('12')).toBe(12_000_000_000n);
    expect(nanoToDecimal(decimalToNano('123.456789000'))).toBe('123.456789000');
    expect(nanoToDecimal(-5n)).toBe('-0.000000005');
  });
});
