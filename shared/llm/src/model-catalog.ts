import type { ModelPricing } from '@raptorflow/core/money/money';

export type CatalogProvider = 'gemini' | 'anthropic';
export type ModelKind = 'chat' | 'embedding';

/** The catalog does not say which models embed; their ids do (`gemini-embedding-001`, `text-embedding-…`). */
export function modelKindOf(id: string): ModelKind {
  return /embedding/i.test(id) ? 'embedding' : 'chat';
}

/** A match rule as the price catalog writes it (equals / starts_with / regex …, combined with and / or). */
export type MatchRule =
  | { and: MatchRule[] }
  | { or: MatchRule[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

export interface PricePeriod {
  /** First UTC day these prices apply; null = since ever. Periods are in ascending order. */
  from: string | null;
  pricing: ModelPricing;
}

export interface CatalogEntry {
  id: string;
  provider: CatalogProvider;
  /** `embedding` models take text and return vectors (no output tokens); only the `embed` alias uses them. */
  kind: ModelKind;
  name: string | undefined;
  /** Exact ids priced as this model besides `id` (operator file: dated and Vertex `@version` ids). */
  extraIds: readonly string[];
  /** The catalog's own rule for which provider ids are this model; undefined for operator-only models. */
  match: MatchRule | undefined;
  contextWindow: number | undefined;
  maxOutputTokens: number;
  retiresOn: string | undefined;
  /** The catalog marks it deprecated (no longer served) without a date. */
  deprecated: boolean;
  origin: 'catalog' | 'operator' | 'catalog+operator';
  periods: readonly PricePeriod[];
  /** Set when the model cannot be billed exactly; such a model is never routed to. */
  unusable: string | undefined;
}

export function matches(rule: MatchRule, id: string): boolean {
  const s = id.toLowerCase();
  if ('or' in rule) return rule.or.some((r) => matches(r, id));
  if ('and' in rule) return rule.and.every((r) => matches(r, id));
  if ('equals' in rule) return s === rule.equals.toLowerCase();
  if ('starts_with' in rule) return s.startsWith(rule.starts_with.toLowerCase());
  if ('ends_with' in rule) return s.endsWith(rule.ends_with.toLowerCase());
  if ('contains' in rule) return s.includes(rule.contains.toLowerCase());
  return new RegExp(rule.regex).test(id);
}

/** `claude-sonnet-5@20260101` → `claude-sonnet-5`; `claude-x-20250929` → `claude-x`; `gemini-y-001` → `gemini-y`. */
export function baseModelId(id: string): string {
  return id
    .replace(/@.*$/, '')
    .replace(/-(\d{8}|\d{3}|latest)$/i, '')
    .toLowerCase();
}

const DAY_MS = 86_400_000;
const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/**
 * The models RaptorFlow can price, built once at start-up from the pinned price catalog plus the operator
 * file (see model-catalog.builder.ts). `version` is stamped on every cost row, so a later catalog or file
 * never re-prices history.
 */
export class ModelCatalog {
  private readonly byId = new Map<string, CatalogEntry>();

  constructor(
    readonly entries: readonly CatalogEntry[],
    readonly version: string,
  ) {
    for (const e of entries)
      for (const id of [e.id, ...e.extraIds])
        if (!this.byId.has(id.toLowerCase())) this.byId.set(id.toLowerCase(), e);
  }

  /**
   * A provider model id → its entry: an exact id first (the operator's ids win), then the id without its
   * Vertex `@version` or date suffix, then the catalog's own match rules. Undefined when nothing prices it.
   */
  lookup(id: string): CatalogEntry | undefined {
    const exact = this.byId.get(id.toLowerCase()) ?? this.byId.get(baseModelId(id));
    if (exact) return exact;
    return this.entries.find((e) => e.match && (matches(e.match, id) || matches(e.match, baseModelId(id))));
  }

  /** The prices in force at `at` (the catalog announces future price changes as dated periods). */
  pricingAt(entry: CatalogEntry, at: Date): ModelPricing {
    const t = at.getTime();
    let current = entry.periods[0]!;
    for (const p of entry.periods) if (p.from === null || dayStart(p.from) <= t) current = p;
    return current.pricing;
  }

  isRetired(entry: CatalogEntry, at: Date): boolean {
    return entry.deprecated || (entry.retiresOn !== undefined && at.getTime() >= dayStart(entry.retiresOn));
  }

  /** Whole days until retirement (negative once past); undefined when no date is known. */
  daysUntilRetirement(entry: CatalogEntry, at: Date): number | undefined {
    if (entry.retiresOn === undefined) return undefined;
    return Math.ceil((dayStart(entry.retiresOn) - at.getTime()) / DAY_MS);
  }
}
