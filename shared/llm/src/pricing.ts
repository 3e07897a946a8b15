import type { TokenUsage } from './llm.types';

/**
 * Money math. Prices are integers in thousandths of a USD per 1M tokens (converted once at start-up from the
 * price catalog, see model-catalog.builder.ts), which makes a call's cost an exact integer of nano-USD
 * (tokens × price): no float ever touches money.
 */

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
