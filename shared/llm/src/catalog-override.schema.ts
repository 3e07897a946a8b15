import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';

/**
 * The operator's model file (`MODEL_CATALOG_FILE`, JSON): adds models the price catalog does not know yet,
 * or overrides what it says (prices, limits, retirement, extra ids such as Vertex `claude-…@2026…`).
 * Every problem in the file is reported at once, with its JSON path, so one edit fixes them all.
 */

const usdPerMillion = z.number().min(0).max(1_000_000);
const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real calendar date');

const longContextSchema = z.strictObject({
  /** The whole prompt is billed at these prices once it has more than this many tokens. */
  above_input_tokens: z.number().int().min(1),
  input_mtok: usdPerMillion,
  output_mtok: usdPerMillion,
  cache_read_mtok: usdPerMillion.optional(),
  cache_write_mtok: usdPerMillion.optional(),
});

const pricesSchema = z.strictObject({
  input_mtok: usdPerMillion,
  output_mtok: usdPerMillion,
  cache_read_mtok: usdPerMillion.optional(),
  cache_write_mtok: usdPerMillion.optional(),
  long_context: longContextSchema.optional(),
});

const modelSchema = z.strictObject({
  /** The model id callers and chains use, e.g. `claude-sonnet-5` or `gemini-3.8-flash`. */
  id: z.string().regex(/^[a-z0-9][\w.\-@]*$/i, 'must be a model id (letters, digits, . - _ @)'),
  /** Needed for a model the catalog does not know; otherwise taken from the catalog. */
  provider: z.enum(['gemini', 'anthropic']).optional(),
  /** More ids priced as this model (dated ids, Vertex `@version` ids). */
  ids: z
    .array(z.string().regex(/^[a-z0-9][\w.\-@]*$/i, 'must be a model id'))
    .max(100)
    .optional(),
  prices: pricesSchema.optional(),
  max_output_tokens: z.number().int().min(1).max(10_000_000).optional(),
  context_window: z.number().int().min(1).max(100_000_000).optional(),
  /** The first day (UTC) the provider no longer serves it; `null` clears a retirement the catalog set. */
  retires_on: isoDay.nullable().optional(),
});

export const catalogOverrideSchema = z.strictObject({
  models: z.array(modelSchema).max(10_000),
});

export type CatalogOverride = z.output<typeof catalogOverrideSchema>;
export type ModelOverride = CatalogOverride['models'][number];

export interface LoadedOverride {
  override: CatalogOverride;
  /** First 12 hex digits of the file's SHA-256: part of the pricing version stamped on every cost row. */
  hash: string;
}

/** Every problem in the file, each with its JSON path; empty when the file is good. */
export function overrideProblems(data: unknown, file: string): string[] {
  const parsed = catalogOverrideSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map(
        (i) => `${file}: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`,
      );
  if (parsed.success) {
    const seen = new Set<string>();
    parsed.data.models.forEach((m, i) => {
      for (const id of [m.id, ...(m.ids ?? [])]) {
        const key = id.toLowerCase();
        if (seen.has(key)) problems.push(`${file}: models.${i}: id "${id}" appears more than once`);
        seen.add(key);
      }
    });
  }
  return problems;
}

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid model catalog:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}

/** Reads and validates the operator file; throws CatalogError listing every problem. */
export function loadCatalogOverride(file: string): LoadedOverride {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CatalogError([`MODEL_CATALOG_FILE: cannot read ${file} (${code})`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CatalogError([`MODEL_CATALOG_FILE: ${file} is not JSON (${(err as Error).message})`]);
  }
  const problems = overrideProblems(data, file);
  if (problems.length > 0) throw new CatalogError(problems);
  return {
    override: catalogOverrideSchema.parse(data),
    hash: createHash('sha256').update(text).digest('hex').slice(0, 12),
  };
}
