import { getSettings } from '../config/settings';
import type { LlmSettings, ModelAliasName, ModelRoute } from '../config/settings';
import { ValidationFailedError } from '../errors/app-error';
import type { LlmProvider, ProviderName } from './llm.types';
import { pricingFor } from './pricing';
import type { ModelPricing } from './pricing';
import { AnthropicProvider } from './providers/anthropic.provider';
import { GeminiProvider } from './providers/gemini.provider';
import { LocalProvider } from './providers/local.provider';
import { RequestRateLimiter } from './request-rate-limiter';

export const MODEL_ALIASES: readonly ModelAliasName[] = ['fast', 'standard', 'heavy'];

export interface ResolvedRoute {
  /** The configured provider; `local` stands in when that provider has no credentials. */
  provider: LlmProvider;
  model: string;
  pricing: ModelPricing;
  limiter: RequestRateLimiter;
}

export interface ModelRouterOptions {
  settings?: LlmSettings;
  /** Tests pass providers wired to fake servers; anything missing is built from settings. */
  providers?: Partial<Record<ProviderName, LlmProvider>>;
}

/**
 * Maps what a caller asks for (an alias, or a priced model id) to an ordered chain of provider + model:
 * the primary first, then the fallbacks. Every model in every chain must have a price, checked at start-up,
 * so a call can never be made that cannot be costed.
 */
export class ModelRouter {
  private readonly settings: LlmSettings;
  private readonly providers: Record<ProviderName, LlmProvider>;
  private readonly limiters: Record<ProviderName, RequestRateLimiter>;
  private readonly chains = new Map<string, ResolvedRoute[]>();

  constructor(opts: ModelRouterOptions = {}) {
    this.settings = opts.settings ?? getSettings().llm;
    const s = this.settings;
    const local = opts.providers?.local ?? new LocalProvider({ latencyMs: s.localLatencyMs });
    const live = s.mode === 'auto';
    this.providers = {
      local,
      gemini:
        opts.providers?.gemini ??
        (live && (s.gemini.apiKey || s.gemini.vertex)
          ? new GeminiProvider({
              apiKey: s.gemini.apiKey,
              vertex: s.gemini.vertex,
              baseUrl: s.gemini.baseUrl,
            })
          : local),
      anthropic:
        opts.providers?.anthropic ??
        (live && (s.anthropic.apiKey || s.anthropic.vertex)
          ? new AnthropicProvider({
              apiKey: s.anthropic.apiKey,
              vertex: s.anthropic.vertex,
              baseUrl: s.anthropic.baseUrl,
            })
          : local),
    };
    this.limiters = {
      gemini: new RequestRateLimiter(s.gemini.requestsPerSecond),
      anthropic: new RequestRateLimiter(s.anthropic.requestsPerSecond),
      local: new RequestRateLimiter(0),
    };
    for (const alias of MODEL_ALIASES)
      this.chains.set(
        alias,
        s.aliases[alias].map((r) => this.route(r)),
      );
  }

  /** Which real provider serves each configured provider name ("local" when it stands in). */
  describe(): Record<ProviderName, ProviderName> {
    return {
      gemini: this.providers.gemini.name,
      anthropic: this.providers.anthropic.name,
      local: 'local',
    };
  }

  /** An alias gives its configured chain; a priced model id gives that model alone, on its own provider. */
  resolve(model: string): { alias: string | null; chain: ResolvedRoute[] } {
    const chain = this.chains.get(model);
    if (chain) return { alias: model, chain };
    const pricing = pricingFor(model);
    if (!pricing) {
      const message = `unknown model "${model}"; use an alias (${MODEL_ALIASES.join(', ')}) or a priced model id`;
      throw new ValidationFailedError(message, [{ path: 'body.model', message }]);
    }
    const provider: ProviderName = model.startsWith('claude') ? 'anthropic' : 'gemini';
    return { alias: null, chain: [this.route({ provider, model })] };
  }

  private route(r: ModelRoute): ResolvedRoute {
    const pricing = pricingFor(r.model);
    if (!pricing)
      throw new Error(`model "${r.model}" has no price in the pricing table; it cannot be routed`);
    return {
      provider: this.providers[r.provider],
      model: r.model,
      pricing,
      // Paced by who actually answers: the offline stand-in is not bound by the real provider's rate.
      limiter: this.limiters[this.providers[r.provider].name],
    };
  }
}
