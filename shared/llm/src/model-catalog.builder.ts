import fs from 'node:fs';
import path from 'node:path';
import { findProvider } from '@pydantic/genai-prices';
import type { ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import { CatalogError, loadCatalogOverride } from './catalog-override.schema';
import type { CatalogOverride, ModelOverride } from './catalog-override.schema';
import { ModelCatalog } from './model-catalog';
import { modelKindOf } from './model-catalog';
import type { CatalogEntry, CatalogProvider, MatchRule, PricePeriod } from './model-catalog';
import { DEFAULT_MAX_OUTPUT_TOKENS, MODEL_FACTS } from './model-facts';
import type { ModelFact } from './model-facts';
import { convertListPrices } from './price-conversion';
import type { ListPrices } from './price-conversion';

export const CATALOG_PACKAGE = '@pydantic/genai-prices';

/** The installed catalog package's version (the lockfile pins it; read from disk so it cannot drift). */
export function catalogPackageVersion(): string {
  const entry = require.resolve(CATALOG_PACKAGE);
  let dir = path.dirname(entry);
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === CATALOG_PACKAGE && pkg.version) return pkg.version;
  }
  throw new Error(`cannot find the version of ${CATALOG_PACKAGE}`);
}

/** Where each of our providers' models sit in the catalog: Gemini under Google, Claude under Anthropic. */
const SOURCES: { catalogId: string; provider: CatalogProvider; idPrefix: string }[] = [
  { catalogId: 'google', provider: 'gemini', idPrefix: 'gemini' },
  { catalogId: 'anthropic', provider: 'anthropic', idPrefix: 'claude' },
];

function periodsOf(model: ModelInfo): { from: string | null; prices: ModelPrice }[] | string {
  if (!Array.isArray(model.prices)) return [{ from: null, prices: model.prices }];
  const out: { from: string | null; prices: ModelPrice }[] = [];
  for (const p of model.prices) {
    if (p.constraint && p.constraint.type !== 'start_date') return 'time-of-day prices are not supported';
    out.push({ from: p.constraint?.start_date ?? null, prices: p.prices });
  }
  return out;
}

interface Draft extends Omit<CatalogEntry, 'periods' | 'unusable'> {
  prices: { from: string | null; prices: ListPrices }[] | string;
}

function fromCatalog(model: ModelInfo, provider: CatalogProvider, fact: ModelFact | undefined): Draft {
  const periods = periodsOf(model);
  return {
    id: model.id,
    provider,
    kind: modelKindOf(model.id),
    name: model.name,
    extraIds: [],
    match: model.match as MatchRule,
    contextWindow: model.context_window,
    maxOutputTokens: fact?.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    retiresOn: fact?.retiresOn,
    deprecated: model.deprecated === true,
    origin: 'catalog',
    prices:
      typeof periods === 'string' ? periods : periods.map((p) => ({ ...p, prices: p.prices as ListPrices })),
  };
}

/** The operator's prices in the catalog's shape; cache prices left out fall back to the input price. */
function operatorPrices(o: NonNullable<ModelOverride['prices']>): ListPrices {
  const lc = o.long_context;
  const tiered = (base: number | undefined, long: number | undefined) => {
    if (base === undefined) return undefined;
    return lc ? { base, tiers: [{ start: lc.above_input_tokens, price: long ?? base }] } : base;
  };
  return {
    input_mtok: tiered(o.input_mtok, lc?.input_mtok),
    output_mtok: tiered(o.output_mtok, lc?.output_mtok),
    cache_read_mtok: tiered(o.cache_read_mtok, lc?.cache_read_mtok ?? lc?.input_mtok),
    cache_write_mtok: tiered(o.cache_write_mtok, lc?.cache_write_mtok ?? lc?.input_mtok),
  };
}

function applyOverride(drafts: Draft[], o: ModelOverride, index: number, problems: string[]): void {
  const known = drafts.find((d) => d.id.toLowerCase() === o.id.toLowerCase());
  const provider = o.provider ?? known?.provider ?? inferProvider(o.id);
  if (!provider) {
    problems.push(
      `MODEL_CATALOG_FILE: models.${index}.provider: required for "${o.id}" (gemini or anthropic)`,
    );
    return;
  }
  if (!known && !o.prices) {
    problems.push(
      `MODEL_CATALOG_FILE: models.${index}.prices: required for "${o.id}", which the catalog does not know`,
    );
    return;
  }
  const draft: Draft = known ?? {
    id: o.id,
    provider,
    kind: modelKindOf(o.id),
    name: undefined,
    extraIds: [],
    match: undefined,
    contextWindow: undefined,
    maxOutputTokens: MODEL_FACTS[o.id]?.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    retiresOn: MODEL_FACTS[o.id]?.retiresOn,
    deprecated: false,
    origin: 'operator',
    prices: [],
  };
  draft.provider = provider;
  if (known) draft.origin = 'catalog+operator';
  if (o.ids) draft.extraIds = [...draft.extraIds, ...o.ids];
  // The operator's prices replace the catalog's, every period of them: they are what the contract says.
  if (o.prices) draft.prices = [{ from: null, prices: operatorPrices(o.prices) }];
  if (o.max_output_tokens !== undefined) draft.maxOutputTokens = o.max_output_tokens;
  if (o.context_window !== undefined) draft.contextWindow = o.context_window;
  if (o.retires_on !== undefined) {
    draft.retiresOn = o.retires_on ?? undefined;
    if (o.retires_on === null) draft.deprecated = false;
  }
  if (!known) drafts.unshift(draft);
}

function inferProvider(id: string): CatalogProvider | undefined {
  if (/^claude/i.test(id)) return 'anthropic';
  if (/^gemini/i.test(id)) return 'gemini';
  return undefined;
}

function finish(d: Draft, operatorIds: Set<string>, problems: string[]): CatalogEntry {
  const { prices, ...rest } = d;
  if (typeof prices === 'string') return { ...rest, periods: [], unusable: `${d.id}: ${prices}` };
  const periods: PricePeriod[] = [];
  for (const p of prices) {
    const converted = convertListPrices(d.id, p.prices, d.maxOutputTokens, d.kind);
    if (!converted.ok) {
      // An operator's own inexact price is an error to fix now; a catalog row nobody asked for only
      // becomes unusable (and is refused, named, if a chain or a caller ever asks for it).
      if (operatorIds.has(d.id.toLowerCase())) problems.push(`MODEL_CATALOG_FILE: ${converted.problem}`);
      return { ...rest, periods: [], unusable: converted.problem };
    }
    periods.push({ from: p.from, pricing: converted.pricing });
  }
  return { ...rest, periods, unusable: periods.length ? undefined : `${d.id}: no prices` };
}

export interface BuildCatalogOptions {
  /** MODEL_CATALOG_FILE; parsed here so the pricing version can carry its hash. */
  overrideFile?: string | undefined;
  /** Tests pass an override object directly (hashed like a file would be by its caller). */
  override?: { override: CatalogOverride; hash: string };
  facts?: Readonly<Record<string, ModelFact>>;
}

/**
 * Converts the pinned price catalog (and the operator file over it) once, at start-up, into exact integer
 * prices. Throws CatalogError listing every problem of the operator file at once.
 */
export function buildModelCatalog(opts: BuildCatalogOptions = {}): ModelCatalog {
  const facts = opts.facts ?? MODEL_FACTS;
  const drafts: Draft[] = [];
  for (const src of SOURCES) {
    const provider = findProvider({ providerId: src.catalogId });
    if (!provider) throw new Error(`${CATALOG_PACKAGE} has no provider "${src.catalogId}"`);
    for (const m of provider.models)
      if (m.id.toLowerCase().startsWith(src.idPrefix)) drafts.push(fromCatalog(m, src.provider, facts[m.id]));
  }
  const loaded = opts.override ?? (opts.overrideFile ? loadCatalogOverride(opts.overrideFile) : undefined);
  const problems: string[] = [];
  const operatorIds = new Set<string>();
  loaded?.override.models.forEach((o, i) => {
    operatorIds.add(o.id.toLowerCase());
    applyOverride(drafts, o, i, problems);
  });
  const entries = drafts.map((d) => finish(d, operatorIds, problems));
  if (problems.length > 0) throw new CatalogError(problems);
  const version = `${CATALOG_PACKAGE}@${catalogPackageVersion()}${loaded ? `+${loaded.hash}` : ''}`;
  return new ModelCatalog(entries, version);
}

let cached: ModelCatalog | undefined;

/** The process's catalog, converted on first use (start-up): the pinned package plus MODEL_CATALOG_FILE. */
export function getModelCatalog(catalogFile: string | undefined): ModelCatalog {
  cached ??= buildModelCatalog({ overrideFile: catalogFile });
  return cached;
}
