import { CREDENTIAL_VARIABLES, hasCredentials } from '@raptorflow/core/config/llm-settings';
import type { LlmSettings, ModelAliasName, ModelRoute } from '@raptorflow/core/config/settings';
import { ModelUnavailableError, ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { CatalogError } from './catalog-override.schema';
import type { LlmProvider, ProviderName } from './llm.types';
import type { CatalogEntry, ModelCatalog, ModelKind } from './model-catalog';
import { RETIREMENT_WARNING_DAYS } from './model-facts';
import type { ModelPricing } from '@raptorflow/core/money/money';
import { AnthropicProvider } from './providers/anthropic.provider';
import { GeminiProvider } from './providers/gemini.provider';
import { LocalProvider } from './providers/local.provider';
import { RequestRateLimiter } from './request-rate-limiter';

/** Logs, once at start-up, each configured model retiring within RETIREMENT_WARNING_DAYS (or retired). */
export function warnAboutRetirements(
  router: ModelRouter,
  logger: { warn(obj: object, msg: string): void },
): void {
  for (const w of router.retirementWarnings())
    logger.warn(
      w,
      `model ${w.model} (${w.aliases.join(', ')}) retires on ${w.retires_on}: set its alias to a current model`,
    );
}

/** Stand-in announcements already made by this process (one per provider). */
const announced = new Set<string>();

export const MODEL_ALIASES: readonly ModelAliasName[] = ['fast', 'standard', 'heavy', 'embed'];
/** The aliases a chat call (a flow step, `POST /v1/model/dispatch`) may name. */
export const CHAT_ALIASES: readonly ModelAliasName[] = ['fast', 'standard', 'heavy'];
const aliasKind = (alias: string): ModelKind => (alias === 'embed' ? 'embedding' : 'chat');

export interface ResolvedRoute {
  /** Who answers: the configured provider, or `local` standing in when it has no credentials. */
  provider: LlmProvider;
  model: string;
  entry: CatalogEntry;
  /** The prices in force when the dispatch started (reservation and settlement use the same). */
  pricing: ModelPricing;
  limiter: RequestRateLimiter;
}

/** One model of an alias chain as `/health` shows it. */
export interface ModelStatus {
  model: string;
  provider: ProviderName;
  mode: 'live' | 'local';
  retires_on: string | null;
  retired: boolean;
}

export interface AliasStatus extends ModelStatus {
  alias: string;
  chain: ModelStatus[];
}

export interface ModelRouterOptions {
  settings: LlmSettings;
  /** The process's catalog (getModelCatalog(settings.catalogFile) in a composition root). */
  catalog: ModelCatalog;
  /** The clock retirement is judged by (tests move it). */
  now?: () => Date;
}

interface ConfiguredRoute {
  configured: ModelRoute;
  entry: CatalogEntry;
}

/**
 * Maps what a caller asks for (an alias, or a model id the catalog prices) to an ordered chain of
 * provider + model: the primary first, then the fallbacks. Every chained model must be in the catalog and
 * billable exactly (checked at start-up, every problem listed at once); a retired model is skipped at call
 * time, so its chain moves on to the next.
 */
export class ModelRouter {
  readonly catalog: ModelCatalog;
  private readonly settings: LlmSettings;
  private readonly providers: Record<ProviderName, LlmProvider>;
  private readonly limiters: Record<ProviderName, RequestRateLimiter>;
  private readonly chains = new Map<string, ConfiguredRoute[]>();
  private readonly now: () => Date;

  constructor(opts: ModelRouterOptions) {
    this.settings = opts.settings;
    const s = this.settings;
    this.catalog = opts.catalog;
    this.now = opts.now ?? (() => new Date());
    // Each provider is built from the settings; one without credentials is answered by the local stand-in
    // (development only: production refuses that configuration).
    const local = new LocalProvider({ latencyMs: s.localLatencyMs });
    this.providers = {
      local,
      gemini: hasCredentials(s, 'gemini')
        ? new GeminiProvider({
            apiKey: s.gemini.apiKey,
            vertex: s.gemini.vertex,
            baseUrl: s.gemini.baseUrl,
          })
        : local,
      anthropic: hasCredentials(s, 'anthropic')
        ? new AnthropicProvider({
            apiKey: s.anthropic.apiKey,
            vertex: s.anthropic.vertex,
            baseUrl: s.anthropic.baseUrl,
          })
        : local,
    };
    this.limiters = {
      gemini: new RequestRateLimiter(s.gemini.requestsPerSecond),
      anthropic: new RequestRateLimiter(s.anthropic.requestsPerSecond),
      local: new RequestRateLimiter(0),
    };
    const problems: string[] = [];
    for (const alias of MODEL_ALIASES) {
      const chain: ConfiguredRoute[] = [];
      for (const configured of s.aliases[alias]) {
        const entry = this.catalog.lookup(configured.model);
        const where = `MODEL_${alias.toUpperCase()}: ${configured.provider}:${configured.model}`;
        if (!entry) problems.push(`${where} is not in the model catalog (add it with MODEL_CATALOG_FILE)`);
        else if (entry.unusable) problems.push(`${where}: ${entry.unusable}`);
        else if (entry.kind !== aliasKind(alias))
          problems.push(
            `${where} is ${entry.kind === 'embedding' ? 'an embedding model' : 'a chat model'}; ${alias} needs ${aliasKind(alias) === 'embedding' ? 'an embedding' : 'a chat'} model`,
          );
        else if (aliasKind(alias) === 'embedding' && configured.provider === 'anthropic')
          problems.push(`${where}: Anthropic has no embedding models`);
        else chain.push({ configured, entry });
      }
      this.chains.set(alias, chain);
    }
    if (problems.length > 0) throw new CatalogError(problems);
    this.announceStandIns();
  }

  /** Development only (production refuses it in config): says once per process who is faked and why. */
  private announceStandIns(): void {
    const s = this.settings;
    if (s.mode === 'local') {
      if (!announced.has('all'))
        getLogger().warn('LLM_PROVIDER=local: every model is answered by the offline stand-in');
      announced.add('all');
      return;
    }
    for (const p of ['gemini', 'anthropic'] as const) {
      const used = MODEL_ALIASES.filter((a) => s.aliases[a].some((r) => r.provider === p));
      if (used.length === 0 || this.providers[p].name !== 'local' || announced.has(p)) continue;
      announced.add(p);
      getLogger().warn(
        { provider: p, aliases: used },
        `${p} has no credentials: ${used.join(', ')} calls to it are answered by the offline stand-in (cost rows say provider "local"); set ${CREDENTIAL_VARIABLES[p]}`,
      );
    }
  }

  /** Which real provider serves each configured provider name ("local" when it stands in). */
  describe(): Record<ProviderName, ProviderName> {
    return { gemini: this.providers.gemini.name, anthropic: this.providers.anthropic.name, local: 'local' };
  }

  /**
   * An alias gives its configured chain less its retired models; a model id the catalog prices gives that
   * model alone, on its own provider. A retired model id, or an alias with nothing left, is refused.
   */
  resolve(model: string, kind: ModelKind = 'chat'): { alias: string | null; chain: ResolvedRoute[] } {
    const at = this.now();
    const refuse = (message: string): never => {
      throw new ValidationFailedError(message, [{ path: 'body.model', message }]);
    };
    const configured = this.chains.get(model);
    if (configured && aliasKind(model) !== kind)
      refuse(
        kind === 'chat'
          ? `"${model}" is the embedding alias; use ${CHAT_ALIASES.join(', ')} or a chat model id`
          : `"${model}" is a chat alias; embeddings use "embed"`,
      );
    if (configured) {
      const live = configured.filter((r) => !this.catalog.isRetired(r.entry, at));
      if (live.length === 0)
        throw new ModelUnavailableError(
          `Every model of "${model}" is retired (${configured.map((r) => r.configured.model).join(', ')}); set MODEL_${model.toUpperCase()}`,
          { model },
        );
      return { alias: model, chain: live.map((r) => this.route(r.configured, r.entry, at)) };
    }
    const entry = this.catalog.lookup(model);
    if (!entry)
      refuse(
        `unknown model "${model}"; use an alias (${(kind === 'chat' ? CHAT_ALIASES : ['embed']).join(', ')}) or a model id the catalog prices`,
      );
    if (entry!.kind !== kind)
      refuse(
        `model "${model}" is ${entry!.kind === 'embedding' ? 'an embedding model' : 'a chat model'}, not ${kind === 'chat' ? 'a chat' : 'an embedding'} model`,
      );
    if (kind === 'embedding' && entry!.provider === 'anthropic')
      refuse(`model "${model}": Anthropic has no embedding models`);
    if (entry!.unusable) refuse(`model "${model}" cannot be billed exactly: ${entry!.unusable}`);
    if (this.catalog.isRetired(entry!, at))
      refuse(`model "${model}" is retired${entry!.retiresOn ? ` (since ${entry!.retiresOn})` : ''}`);
    return { alias: null, chain: [this.route({ provider: entry!.provider, model }, entry!, at)] };
  }

  /** Each alias with its first model still in service, and its whole chain, for `/health`. */
  aliasStatus(): AliasStatus[] {
    const at = this.now();
    return MODEL_ALIASES.map((alias) => {
      const chain = (this.chains.get(alias) ?? []).map((r) => this.status(r, at));
      const primary = chain.find((c) => !c.retired) ?? chain[0]!;
      return { alias, ...primary, chain };
    });
  }

  /**
   * Every model of every alias chain with whole days until it retires (negative once past), Infinity when
   * no date is known: the metrics' retirement gauge, so an alert can fire before the chain falls back.
   */
  retirementDays(): { alias: string; model: string; days: number }[] {
    const at = this.now();
    return [...this.chains].flatMap(([alias, chain]) =>
      chain.map((r) => ({
        alias,
        model: r.configured.model,
        days: this.catalog.daysUntilRetirement(r.entry, at) ?? Number.POSITIVE_INFINITY,
      })),
    );
  }

  /** Configured models retired, or retiring within RETIREMENT_WARNING_DAYS: logged once at start-up. */
  retirementWarnings(): { model: string; aliases: string[]; retires_on: string; days: number }[] {
    const at = this.now();
    const byModel = new Map<string, { model: string; aliases: string[]; retires_on: string; days: number }>();
    for (const [alias, chain] of this.chains)
      for (const r of chain) {
        const days = this.catalog.daysUntilRetirement(r.entry, at);
        if (days === undefined || days > RETIREMENT_WARNING_DAYS) continue;
        const w = byModel.get(r.configured.model) ?? {
          model: r.configured.model,
          aliases: [],
          retires_on: r.entry.retiresOn!,
          days,
        };
        w.aliases.push(alias);
        byModel.set(r.configured.model, w);
      }
    return [...byModel.values()];
  }

  private status(r: ConfiguredRoute, at: Date): ModelStatus {
    const provider = this.providers[r.configured.provider].name;
    return {
      model: r.configured.model,
      provider: r.configured.provider,
      mode: provider === 'local' ? 'local' : 'live',
      retires_on: r.entry.retiresOn ?? null,
      retired: this.catalog.isRetired(r.entry, at),
    };
  }

  private route(r: ModelRoute, entry: CatalogEntry, at: Date): ResolvedRoute {
    const provider = this.providers[r.provider];
    return {
      provider,
      model: r.model,
      entry,
      pricing: this.catalog.pricingAt(entry, at),
      // Paced by who actually answers: the offline stand-in is not bound by the real provider's rate.
      limiter: this.limiters[provider.name],
    };
  }
}
