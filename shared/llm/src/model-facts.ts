/**
 * What the price catalog does not carry: each model's output cap and the day its provider stops serving
 * it. Kept as data beside the catalog (the operator file overrides any of it). Ids are the catalog's.
 * Sources: the providers' model pages and deprecation schedules as read on 2026-11-30.
 */
export interface ModelFact {
  maxOutputTokens?: number;
  /** First UTC day the provider no longer serves the model. */
  retiresOn?: string;
}

/** Output cap for a model with no fact here or in the operator file: small enough to be safe anywhere. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8_192;

/** Start-up warns about a configured model this many days (or fewer) before it retires. */
export const RETIREMENT_WARNING_DAYS = 30;

export const MODEL_FACTS: Readonly<Record<string, ModelFact>> = Object.freeze({
  // Gemini API deprecation schedule: 2.5 Pro and Flash shut down on 2026-12-01.
  'gemini-2.5-flash': { maxOutputTokens: 65_536, retiresOn: '2026-12-01' },
  'gemini-2.5-pro': { maxOutputTokens: 65_536, retiresOn: '2026-12-01' },
  'gemini-2.5-flash-lite': { maxOutputTokens: 65_536 },
  'gemini-3-pro-preview': { maxOutputTokens: 65_536 },
  'gemini-3.1-pro-preview': { maxOutputTokens: 65_536 },
  'gemini-3-flash-preview': { maxOutputTokens: 65_536 },
  'gemini-3.1-flash-lite': { maxOutputTokens: 65_536 },
  'gemini-3.5-flash': { maxOutputTokens: 65_536 },
  'gemini-3.5-flash-lite': { maxOutputTokens: 65_536 },
  'gemini-3.6-flash': { maxOutputTokens: 65_536 },
  'gemini-3.7-flash': { maxOutputTokens: 65_536 },
  'gemini-3.8-flash': { maxOutputTokens: 65_536 },
  // Anthropic: Sonnet 4.5 retired on 2026-11-30.
  'claude-sonnet-4-5': { maxOutputTokens: 64_000, retiresOn: '2026-11-30' },
  'claude-sonnet-4-6': { maxOutputTokens: 64_000 },
  'claude-sonnet-5': { maxOutputTokens: 64_000 },
  'claude-haiku-4-5': { maxOutputTokens: 64_000 },
  'claude-opus-4-8': { maxOutputTokens: 128_000 },
  'claude-opus-5': { maxOutputTokens: 128_000 },
  'claude-opus-5-5': { maxOutputTokens: 128_000 },
});
