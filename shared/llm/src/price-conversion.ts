import type { ModelPricing, PriceTier } from '@raptorflow/core/money/money';

/**
 * Turns list prices in USD per 1M tokens (as the price catalog and the operator file write them) into the
 * exact integer form `pricing.ts` computes with: thousandths of a USD per 1M tokens, so that tokens × price
 * is an exact count of nano-USD. A price with finer precision than $0.001 per 1M tokens cannot be billed
 * exactly and is refused, naming the model and the price.
 */

/** One price as the catalog writes it: a number, or a base price with tiers above a prompt size. */
export type CatalogPrice = number | { base: number; tiers: { start: number; price: number }[] };

/** The price keys RaptorFlow bills (text in, text out, cache reads, cache writes). */
export interface ListPrices {
  input_mtok?: CatalogPrice | undefined;
  output_mtok?: CatalogPrice | undefined;
  cache_read_mtok?: CatalogPrice | undefined;
  cache_write_mtok?: CatalogPrice | undefined;
}

const LABELS: Record<keyof PriceTier, string> = {
  input: 'input',
  output: 'output',
  cachedInput: 'cache read',
  cacheWrite: 'cache write',
};

export type Converted = { ok: true; pricing: ModelPricing } | { ok: false; problem: string };

/** USD per 1M tokens → integer thousandths of a USD per 1M tokens, or undefined when not exact. */
export function toMilliPerMillion(usdPerMillion: number): number | undefined {
  if (!Number.isFinite(usdPerMillion) || usdPerMillion < 0 || usdPerMillion > 1_000_000) return undefined;
  const milli = Math.round(usdPerMillion * 1000);
  // Floats: 0.075 * 1000 is 75.00000000000001; anything further off than that is a finer price.
  return Math.abs(milli - usdPerMillion * 1000) > 1e-6 ? undefined : milli;
}

function splitTier(p: CatalogPrice | undefined): {
  base?: number;
  start?: number;
  tier?: number;
  many?: true;
} {
  if (p === undefined) return {};
  if (typeof p === 'number') return { base: p };
  if (p.tiers.length > 1) return { base: p.base, many: true };
  const t = p.tiers[0];
  return t ? { base: p.base, start: t.start, tier: t.price } : { base: p.base };
}

/**
 * Converts one model's list prices. Input and output prices are required; a missing cache-read or
 * cache-write price bills those tokens at the input price (never cheaper than the truth). One long-context
 * tier is supported (the whole prompt is billed at it once the prompt exceeds its start, as both providers
 * do); more than one, or tiers starting at different sizes, is refused rather than guessed.
 */
export function convertListPrices(
  model: string,
  prices: ListPrices,
  maxOutputTokens: number,
  kind: 'chat' | 'embedding' = 'chat',
): Converted {
  // An embedding model returns vectors, not tokens: it has an input price only, and its output is free.
  const output = kind === 'embedding' ? (prices.output_mtok ?? 0) : prices.output_mtok;
  const parts = {
    input: splitTier(prices.input_mtok),
    output: splitTier(output),
    cachedInput: splitTier(prices.cache_read_mtok ?? prices.input_mtok),
    cacheWrite: splitTier(prices.cache_write_mtok ?? prices.input_mtok),
  };
  if (parts.input.base === undefined || parts.output.base === undefined)
    return { ok: false, problem: `${model}: the catalog has no input or output price for it` };
  const entries = Object.entries(parts) as [keyof PriceTier, ReturnType<typeof splitTier>][];
  if (entries.some(([, p]) => p.many))
    return { ok: false, problem: `${model}: prices with more than one long-context tier are not supported` };
  const starts = new Set(entries.map(([, p]) => p.start).filter((s) => s !== undefined));
  if (starts.size > 1)
    return { ok: false, problem: `${model}: long-context tiers start at different prompt sizes` };

  const inexact: string[] = [];
  // A cache price that was not given falls back to the input price: its problem is the input's, said once.
  const given = {
    input: true,
    output: true,
    cachedInput: prices.cache_read_mtok !== undefined,
    cacheWrite: prices.cache_write_mtok !== undefined,
  };
  const milli = (key: keyof PriceTier, long: boolean, usd: number | undefined, fallback: number): number => {
    if (usd === undefined) return fallback;
    const m = toMilliPerMillion(usd);
    if (m === undefined && given[key]) inexact.push(`${LABELS[key]}${long ? ' (long context)' : ''} $${usd}`);
    return m ?? 0;
  };
  const base = {} as PriceTier;
  const long = {} as PriceTier;
  for (const [key, p] of entries) {
    base[key] = milli(key, false, p.base, 0);
    long[key] = milli(key, true, p.tier, base[key]);
  }
  if (inexact.length > 0)
    return {
      ok: false,
      problem: `${model}: ${inexact.join(', ')} per 1M tokens cannot be represented exactly (finest unit is $0.001 per 1M tokens)`,
    };
  const [threshold] = [...starts];
  return {
    ok: true,
    pricing: {
      model,
      base,
      ...(threshold !== undefined ? { longContextThreshold: threshold, longContext: long } : {}),
      maxOutputTokens,
    },
  };
}
