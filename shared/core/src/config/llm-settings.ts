import { z } from 'zod';
import { booleanish, intFrom, isTrue, optionalString } from './env-parsers';

// The ModelDispatcher's part of the configuration (SPEC §10): aliases, providers, retries, budgets.

/** `provider:model[,provider:model…]`: the alias's primary model, then its fallbacks in order. */
const modelChain = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(
            /^(gemini|anthropic|local):[\w.\-@]+$/,
            'each entry must be provider:model (gemini|anthropic|local)',
          ),
      )
      .min(1),
  )
  .transform((entries) =>
    entries.map((e) => {
      const [provider, model] = e.split(':') as [LlmProviderName, string];
      return { provider, model };
    }),
  );

export type LlmProviderName = 'gemini' | 'anthropic' | 'local';
export interface ModelRoute {
  provider: LlmProviderName;
  model: string;
}
/** The chat aliases flows and callers pick from, and `embed`, the one embedding model memory uses. */
export type ModelAliasName = 'fast' | 'standard' | 'heavy' | 'embed';

/**
 * Current models (checked in the pinned price catalog on 2026-11-30), each chain crossing providers so one
 * provider's outage or a retirement moves the call to the other. Changed by MODEL_FAST|STANDARD|HEAVY alone.
 */
export const DEFAULT_MODEL_CHAINS: Readonly<Record<ModelAliasName, readonly ModelRoute[]>> = {
  fast: [
    { provider: 'gemini', model: 'gemini-3.8-flash' },
    { provider: 'anthropic', model: 'claude-haiku-4-5' },
  ],
  standard: [
    { provider: 'gemini', model: 'gemini-3.1-pro-preview' },
    { provider: 'anthropic', model: 'claude-sonnet-5' },
  ],
  heavy: [
    { provider: 'anthropic', model: 'claude-sonnet-5' },
    { provider: 'gemini', model: 'gemini-3.1-pro-preview' },
  ],
  // One model, no fallback across providers: vectors of different models cannot be compared, so memory
  // search only ever compares an item with a query embedded by the same model (Anthropic has none).
  embed: [{ provider: 'gemini', model: 'gemini-embedding-001' }],
};

export const llmEnvShape = {
  LLM_PROVIDER: optionalString.pipe(z.enum(['auto', 'local']).optional()),
  MODEL_CATALOG_FILE: optionalString,
  MODEL_FAST: optionalString.pipe(modelChain.optional()),
  MODEL_STANDARD: optionalString.pipe(modelChain.optional()),
  MODEL_HEAVY: optionalString.pipe(modelChain.optional()),
  MODEL_EMBED: optionalString.pipe(modelChain.optional()),
  GEMINI_API_KEY: optionalString,
  GEMINI_BASE_URL: optionalString.pipe(z.url().optional()),
  ANTHROPIC_BASE_URL: optionalString.pipe(z.url().optional()),
  ANTHROPIC_USE_VERTEX: booleanish,
  ANTHROPIC_VERTEX_REGION: optionalString,
  LLM_TIMEOUT_MS: intFrom(60_000, 100, 3_600_000),
  LLM_MAX_ATTEMPTS: intFrom(3, 1, 20),
  LLM_RETRY_BASE_MS: intFrom(500, 0, 600_000),
  LLM_RETRY_MAX_MS: intFrom(30_000, 0, 3_600_000),
  LLM_DEADLINE_MS: intFrom(300_000, 100, 86_400_000),
  LLM_DEFAULT_MAX_TOKENS: intFrom(1_024, 1, 1_000_000),
  GEMINI_REQUESTS_PER_SECOND: intFrom(50, 0, 100_000),
  ANTHROPIC_REQUESTS_PER_SECOND: intFrom(50, 0, 100_000),
  LOCAL_PROVIDER_LATENCY_MS: intFrom(0, 0, 600_000),
  BUDGET_ENFORCEMENT: booleanish,
  BUDGET_RESERVATION_TTL_MS: optionalString.pipe(
    z.coerce.number<string>().int().min(1_000).max(86_400_000).optional(),
  ),
};

type LlmEnv = z.output<z.ZodObject<typeof llmEnvShape>> & {
  GOOGLE_CLOUD_LOCATION?: string;
  ANTHROPIC_API_KEY?: string;
};

export interface LlmSettings {
  /** `local` forces the offline provider; `auto` uses a real provider wherever its credentials are set. */
  mode: 'auto' | 'local';
  /** The operator's model file (JSON) over the pinned price catalog; undefined = the catalog alone. */
  catalogFile: string | undefined;
  aliases: Record<ModelAliasName, readonly ModelRoute[]>;
  gemini: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    /** Vertex AI mode (GOOGLE_CLOUD_PROJECT set, no GEMINI_API_KEY): credentials from Google ADC. */
    vertex: { project: string; location: string } | undefined;
    requestsPerSecond: number;
  };
  anthropic: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    vertex: { projectId: string; region: string } | undefined;
    requestsPerSecond: number;
  };
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A dispatch never runs longer than this, retries and fallbacks included. */
  deadlineMs: number;
  defaultMaxTokens: number;
  localLatencyMs: number;
  budgetEnforcement: boolean;
  /** Longer than any live dispatch (deadline + margin): only a dead holder's reservation ever expires. */
  reservationTtlMs: number;
}

export function buildLlmSettings(e: LlmEnv, googleCloudProject: string | undefined): LlmSettings {
  return {
    mode: e.LLM_PROVIDER ?? 'auto',
    catalogFile: e.MODEL_CATALOG_FILE,
    aliases: {
      fast: e.MODEL_FAST ?? DEFAULT_MODEL_CHAINS.fast,
      standard: e.MODEL_STANDARD ?? DEFAULT_MODEL_CHAINS.standard,
      heavy: e.MODEL_HEAVY ?? DEFAULT_MODEL_CHAINS.heavy,
      embed: e.MODEL_EMBED ?? DEFAULT_MODEL_CHAINS.embed,
    },
    gemini: {
      apiKey: e.GEMINI_API_KEY,
      baseUrl: e.GEMINI_BASE_URL,
      vertex:
        googleCloudProject && !e.GEMINI_API_KEY
          ? { project: googleCloudProject, location: e.GOOGLE_CLOUD_LOCATION ?? 'us-central1' }
          : undefined,
      requestsPerSecond: e.GEMINI_REQUESTS_PER_SECOND,
    },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      vertex:
        isTrue(e.ANTHROPIC_USE_VERTEX, false) && googleCloudProject
          ? { projectId: googleCloudProject, region: e.ANTHROPIC_VERTEX_REGION ?? 'us-east5' }
          : undefined,
      requestsPerSecond: e.ANTHROPIC_REQUESTS_PER_SECOND,
    },
    timeoutMs: e.LLM_TIMEOUT_MS,
    maxAttempts: e.LLM_MAX_ATTEMPTS,
    retryBaseMs: e.LLM_RETRY_BASE_MS,
    retryMaxMs: e.LLM_RETRY_MAX_MS,
    deadlineMs: e.LLM_DEADLINE_MS,
    defaultMaxTokens: e.LLM_DEFAULT_MAX_TOKENS,
    localLatencyMs: e.LOCAL_PROVIDER_LATENCY_MS,
    budgetEnforcement: isTrue(e.BUDGET_ENFORCEMENT, true),
    reservationTtlMs: e.BUDGET_RESERVATION_TTL_MS ?? e.LLM_DEADLINE_MS + 60_000,
  };
}

/** Whether a real provider can be called: `auto` mode and its credentials present. */
export function hasCredentials(s: LlmSettings, provider: LlmProviderName): boolean {
  if (s.mode !== 'auto') return false;
  if (provider === 'gemini') return Boolean(s.gemini.apiKey || s.gemini.vertex);
  if (provider === 'anthropic') return Boolean(s.anthropic.apiKey || s.anthropic.vertex);
  return false;
}

/** The variables that give a provider its credentials, as an operator should read them. */
export const CREDENTIAL_VARIABLES: Readonly<Record<'gemini' | 'anthropic', string>> = {
  gemini: 'GOOGLE_CLOUD_PROJECT (Vertex AI, with Google application default credentials) or GEMINI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY (or ANTHROPIC_USE_VERTEX=true with GOOGLE_CLOUD_PROJECT)',
};

const ALIAS_VARIABLE: Record<ModelAliasName, string> = {
  fast: 'MODEL_FAST',
  standard: 'MODEL_STANDARD',
  heavy: 'MODEL_HEAVY',
  embed: 'MODEL_EMBED',
};

/**
 * Production never answers with the offline stand-in: `LLM_PROVIDER=local`, a `local:` chain entry, or a
 * chained provider without credentials is a start-up error naming the variables to set.
 */
export function llmProductionProblems(s: LlmSettings): string[] {
  const problems: string[] = [];
  if (s.mode === 'local')
    problems.push('LLM_PROVIDER=local (the offline stand-in) is not allowed in production');
  // In local mode that one line says it all; otherwise each provider without credentials is named once.
  const users = new Map<'gemini' | 'anthropic', Set<string>>();
  for (const [alias, chain] of Object.entries(s.aliases) as [ModelAliasName, readonly ModelRoute[]][]) {
    for (const r of chain) {
      if (r.provider === 'local') {
        problems.push(
          `${ALIAS_VARIABLE[alias]}: "local:${r.model}" is the offline stand-in, not allowed in production`,
        );
        continue;
      }
      if (s.mode === 'local' || hasCredentials(s, r.provider)) continue;
      const set = users.get(r.provider) ?? new Set<string>();
      set.add(`${ALIAS_VARIABLE[alias]} (${r.model})`);
      users.set(r.provider, set);
    }
  }
  for (const [provider, used] of users)
    problems.push(
      `${provider === 'gemini' ? 'Gemini' : 'Anthropic'} has no credentials but is used by ${[...used].join(', ')}: set ${CREDENTIAL_VARIABLES[provider]}`,
    );
  for (const [name, url] of [
    ['GEMINI_BASE_URL', s.gemini.baseUrl],
    ['ANTHROPIC_BASE_URL', s.anthropic.baseUrl],
  ] as const)
    if (url !== undefined && !url.startsWith('https://'))
      problems.push(`${name} must be an https:// URL in production`);
  return problems;
}
