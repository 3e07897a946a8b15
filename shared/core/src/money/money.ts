/**
 * All money math, in one place. Amounts are bigint nano-USD (1e-9 USD); PostgreSQL stores them as NUMERIC and
 * they cross the wire as exact decimal strings. Prices are integers in thousandths of a USD per 1M tokens
 * (converted once at start-up from the price catalog, see shared/llm's model-catalog.builder.ts), which makes
 * a call's cost an exact integer of nano-USD (tokens × price). Floats appear only at the JSON edge
 * (`nanoToNumber`): sums, settlements and ratios are computed on integers, so 0.1 + 0.2 is exactly 0.3.
 * Pure math: the SQL that stores money lives in shared/data's cost and budget repositories.
 */

/**
 * Token counts by billing kind, already disjoint: `inputTokens` EXCLUDES cached reads and cache writes, and
 * `outputTokens` EXCLUDES thinking tokens, so pricing adds each kind once (no double count).
 */
export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  thinkingTokens: number;
}

export interface PriceTier {
  input: number;
  output: number;
  cachedInput: number;
  cacheWrite: number;
}

export interface ModelPricing {
  model: string;
  /** Prompts (input + cached + cache writes) above this many tokens are billed at `longContext` in full. */
  longContextThreshold?: number;
  base: PriceTier;
  longContext?: PriceTier;
  /** The provider's output cap (max_tokens above it is refused with 422). */
  maxOutputTokens: number;
}

export function promptTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.cachedInputTokens + usage.cacheWriteTokens;
}

/** Exact cost in nano-USD (1e-9). Thinking tokens are billed as output; each token kind counts once. */
export function costNanoUsd(pricing: ModelPricing, usage: TokenUsage): bigint {
  const long =
    pricing.longContext !== undefined &&
    pricing.longContextThreshold !== undefined &&
    promptTokens(usage) > pricing.longContextThreshold;
  const p = long ? pricing.longContext! : pricing.base;
  const n = (tokens: number, price: number) => BigInt(tokens) * BigInt(price);
  return (
    n(usage.inputTokens, p.input) +
    n(usage.cachedInputTokens, p.cachedInput) +
    n(usage.cacheWriteTokens, p.cacheWrite) +
    n(usage.outputTokens + usage.thinkingTokens, p.output)
  );
}

/** Worst case for admission: every prompt token uncached, every allowed output token used. */
export function worstCaseNanoUsd(pricing: ModelPricing, promptTokenCount: number, maxTokens: number): bigint {
  return costNanoUsd(pricing, {
    inputTokens: promptTokenCount,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: maxTokens,
    thinkingTokens: 0,
  });
}

const NANO = 1_000_000_000n;

/** Nano-USD → an exact decimal string with 9 places ("0.000123000"), as PostgreSQL numeric takes it. */
export function nanoToDecimal(nano: bigint): string {
  const sign = nano < 0n ? '-' : '';
  const abs = nano < 0n ? -nano : nano;
  return `${sign}${abs / NANO}.${(abs % NANO).toString().padStart(9, '0')}`;
}

/** A PostgreSQL numeric string (any scale) → nano-USD, truncating digits below 1e-9 (never produced here). */
export function decimalToNano(value: string | number): bigint {
  const s = typeof value === 'number' ? value.toFixed(9) : value.trim();
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!match) throw new Error(`not a decimal: ${s}`);
  const [, sign, whole, frac = ''] = match;
  const nano = BigInt(whole || '0') * NANO + BigInt((frac + '000000000').slice(0, 9));
  return sign ? -nano : nano;
}

/** For JSON responses (SPEC: money is a JSON number of USD); exact to 9 places for any realistic amount. */
export function nanoToNumber(nano: bigint): number {
  return Number(nanoToDecimal(nano));
}

/**
 * A NUMERIC column read as text (or null for an empty SUM) → a JSON number at the API edge: a conversion of
 * the exact decimal (all of its places, up to NUMERIC(20,10)'s ten), never arithmetic on floats.
 */
export function decimalToNumber(value: string | null | undefined): number {
  const s = (value ?? '0').trim();
  if (!/^-?\d*(\.\d*)?$/.test(s) || s === '' || s === '-') throw new Error(`not a decimal: ${s}`);
  return Number(s);
}

/**
 * A USD amount that crossed JSON as a number (at most 9 decimals, e.g. a tool's `cost_usd`) → nano-USD.
 * `toFixed(9)` recovers the decimal the number was printed from, so summing the results is exact where
 * summing the numbers would drift (0.1 + 0.2 !== 0.3).
 */
export function usdToNano(usd: number): bigint {
  if (!Number.isFinite(usd)) throw new Error(`not a USD amount: ${usd}`);
  return decimalToNano(usd);
}

/** Exact sum of amounts in any of the forms money arrives in (nano-USD, decimal strings, JSON numbers). */
export function sumNano(values: Iterable<bigint | string | number>): bigint {
  let total = 0n;
  for (const v of values)
    total += typeof v === 'bigint' ? v : typeof v === 'string' ? decimalToNano(v) : usdToNano(v);
  return total;
}

/** `part` as a percentage of `whole` with two decimals, truncated (a zero whole: 100 once anything is spent). */
export function percentOf(part: bigint, whole: bigint): number {
  if (whole === 0n) return part > 0n ? 100 : 0;
  return Number((part * 10_000n) / whole) / 100;
}

/**
 * `part` / `whole` as a ratio truncated to millionths, for metrics (a run of stand-in calls is a few
 * millionths of a budget, which percentOf's two decimals would show as 0); a zero whole: 1 once anything is spent.
 */
export function ratioOf(part: bigint, whole: bigint): number {
  if (whole === 0n) return part > 0n ? 1 : 0;
  return Number((part * 1_000_000n) / whole) / 1_000_000;
}

/**
 * A budget in USD as the API takes it (validated to ≤ 6 decimals) → the NUMERIC string stored. `toFixed`
 * keeps the decimal the client sent instead of a float's binary tail.
 */
export function budgetUsdToDecimal(usd: number): string {
  return usd.toFixed(6);
}
