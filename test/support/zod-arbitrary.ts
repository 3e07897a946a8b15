import fc from 'fast-check';
import { z } from 'zod';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { ValidationFailedError } from '@raptorflow/core/errors/app-error';

/**
 * fast-check arbitraries from the gateway's zod schemas, read through `z.toJSONSchema` (zod 4's public view
 * of a schema: types, formats, patterns, lengths, ranges, enums, required keys, strictness) rather than zod's
 * internals. Valid values are generated from that view and then held to the schema itself through
 * `parseOrThrow` (the route's own check, refinements and the NUL/surrogate rule included), so "valid" always
 * means what the gateway will accept. Near-valid values change one field of a valid value in one way; each
 * is kept only if the schema refuses it on that field, which is then the field the 422 must name.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

/** The request side of a schema (transforms and defaults seen as input), inlined. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** `parseOrThrow`'s verdict: undefined when accepted, else the field paths of the 422 it would throw. */
export function refusal(schema: z.ZodType, value: unknown, where: string): string[] | undefined {
  try {
    parseOrThrow(schema, value, where);
    return undefined;
  } catch (err) {
    const fields = (err as ValidationFailedError).details as { fields?: Array<{ path: string }> } | undefined;
    return (fields?.fields ?? []).map((f) => f.path);
  }
}

/** Per-field overrides of the generated values, by dotted path below the root (`agent`, `input`). */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

const MAX_TEXT = 40;
// Instants inside the API's 1970–9999 range; a few fixed edges next to random ones.
const instant = fc.oneof(
  fc
    .date({
      min: new Date('1971-01-01T00:00:00Z'),
      max: new Date('2090-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom('1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-11-27T10:00:00+01:00'),
);
const text = (min: number, max: number) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.string({
        minLength: Math.max(min, 1),
        maxLength: Math.max(min, Math.min(max, MAX_TEXT)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme', minLength: Math.max(min, 1), maxLength: Math.min(max, 12) }),
    },
    // The longest accepted value: the limit itself must pass.
    { weight: 1, arbitrary: fc.constant('m'.repeat(Math.min(max, 10_000))) },
  );

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  if (!s.$ref) return s;
  const name = s.$ref.split('/').pop()!;
  return root.$defs?.[name] ?? {};
}

/** Values that fit the JSON Schema (the zod schema's refinements are checked by the caller). */
export function arbitraryOf(
  s0: JsonSchema,
  root: JsonSchema,
  hints: Hints = {},
  path = '',
): fc.Arbitrary<unknown> {
  if (hints[path]) return hints[path];
  const s = resolve(s0, root);
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return fc.oneof(...branches.map((b) => arbitraryOf(b, root, hints, path)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'uuid') return fc.uuid({ version: 4 });
      if (s.format === 'date-time') return instant;
      if (s.format === 'date') return instant.map((d) => d.slice(0, 10));
      if (s.pattern)
        return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 1e6));
      return text(s.minLength ?? 0, s.maxLength ?? 200);
    case 'integer': {
      const min = s.minimum ?? -1_000_000;
      const max = s.maximum ?? 1_000_000;
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'number': {
      const min = s.minimum ?? -1_000_000;
      const max = s.maximum ?? 1_000_000;
      return fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
        fc.double({ min, max, noNaN: true }).map((v) => Math.round(v * 100) / 100),
        fc.constantFrom(min, max),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryOf(s.items ?? {}, root, hints, `${path}[]`), {
        minLength: s.minItems ?? 0,
        maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)),
      });
    case 'object': {
      const props = s.properties ?? {};
      if (Object.keys(props).length === 0 && typeof s.additionalProperties === 'object')
        return fc.dictionary(
          arbitraryOf(s.propertyNames ?? { type: 'string', maxLength: 20 }, root) as fc.Arbitrary<string>,
          arbitraryOf(s.additionalProperties, root, hints, `${path}.*`),
          { maxKeys: 3 },
        );
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props))
        record[k] = arbitraryOf(v, root, hints, path ? `${path}.${k}` : k);
      return fc.record(record, { requiredKeys: s.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }).map((v) => v ?? null);
  }
}

/** Valid values of a route's body, query or path schema: generated from it and accepted by it. */
export function validArbitrary(schema: z.ZodType, where: string, hints: Hints = {}, doc?: z.ZodType) {
  const js = jsonSchemaOf(doc ?? schema);
  return arbitraryOf(js, js, hints).filter((v) => refusal(schema, v, where) === undefined);
}

export type MutationKind =
  | 'missing'
  | 'wrong-type'
  | 'too-long'
  | 'too-short'
  | 'below-min'
  | 'above-max'
  | 'not-integer'
  | 'bad-enum'
  | 'bad-format'
  | 'extra-key';

export interface Mutation {
  kind: MutationKind;
  /** The field changed (`body.name`), which the 422 must name; for extra-key, the unknown key's path. */
  field: string;
  value: Record<string, unknown>;
}

const BAD_FORMAT: Record<string, string> = {
  uuid: '6f1c2a9e-1d4b-4e0a-9d1c-0f6a3b2c1d4',
  'date-time': '2026-13-45T25:61:00Z',
  date: '2026-02-30',
};

/** The ways one top-level field of `s` can be made wrong, given a valid object `base` of it. */
function mutationsOf(s: JsonSchema, root: JsonSchema, base: Record<string, unknown>, stringsOnly: boolean) {
  const out: Array<{ kind: MutationKind; key: string; value: unknown; remove?: boolean }> = [];
  for (const [key, p0] of Object.entries(s.properties ?? {})) {
    const p = resolve(p0, root);
    const type = Array.isArray(p.type) ? p.type[0] : p.type;
    if (s.required?.includes(key)) out.push({ kind: 'missing', key, value: undefined, remove: true });
    if (!stringsOnly) {
      if (type === 'string' || p.enum || p.anyOf) out.push({ kind: 'wrong-type', key, value: 12345 });
      else
        out.push({
          kind: 'wrong-type',
          key,
          value: type === 'object' ? ['not', 'an', 'object'] : 'not-a-value',
        });
    }
    if (type === 'string' && p.maxLength !== undefined && !p.enum)
      out.push({ kind: 'too-long', key, value: 'z'.repeat(p.maxLength + 1) });
    if (type === 'string' && (p.minLength ?? 0) > 0) out.push({ kind: 'too-short', key, value: '' });
    if (type === 'array' && (p.minItems ?? 0) > 0 && !stringsOnly)
      out.push({ kind: 'too-short', key, value: [] });
    if (
      type === 'array' &&
      p.maxItems !== undefined &&
      p.maxItems <= 1000 &&
      Array.isArray(base[key]) &&
      (base[key] as unknown[]).length
    )
      out.push({
        kind: 'too-long',
        key,
        value: Array.from({ length: p.maxItems + 1 }, () => (base[key] as unknown[])[0]),
      });
    if (type === 'integer' || type === 'number') {
      const asIs = (n: number) => (stringsOnly ? String(n) : n);
      if (p.minimum !== undefined) out.push({ kind: 'below-min', key, value: asIs(p.minimum - 1) });
      if (p.maximum !== undefined) out.push({ kind: 'above-max', key, value: asIs(p.maximum + 1) });
      if (type === 'integer') out.push({ kind: 'not-integer', key, value: asIs(1.5) });
    }
    if (p.enum || p.anyOf?.some((b) => resolve(b, root).enum))
      out.push({ kind: 'bad-enum', key, value: 'not-one-of-them' });
    if (p.format && BAD_FORMAT[p.format]) out.push({ kind: 'bad-format', key, value: BAD_FORMAT[p.format] });
    else if (p.pattern && type === 'string') out.push({ kind: 'bad-format', key, value: '!!' });
  }
  if (s.additionalProperties === false) out.push({ kind: 'extra-key', key: 'unexpected_field', value: 'x' });
  return out;
}

/**
 * Near-valid variants of a valid object: each changes one top-level field in one way and is refused by the
 * schema on exactly that field (variants the schema still accepts, or refuses elsewhere, are dropped).
 * `stringsOnly`: the values travel in a URL (query, path), so a wrong type cannot be expressed.
 */
export function nearValid(
  schema: z.ZodType,
  where: string,
  base: Record<string, unknown>,
  opts: { doc?: z.ZodType; stringsOnly?: boolean } = {},
): Mutation[] {
  const js = jsonSchemaOf(opts.doc ?? schema);
  const objectSchema = js.anyOf ? resolve(js.anyOf[0]!, js) : js;
  const found: Mutation[] = [];
  for (const m of mutationsOf(objectSchema, js, base, opts.stringsOnly ?? false)) {
    const value = { ...base };
    if (m.remove) delete value[m.key];
    else value[m.key] = m.value;
    const field = `${where}.${m.key}`;
    const paths = refusal(schema, value, where);
    if (!paths) continue;
    // A strict object names the unknown key in the message, at the object's own path.
    const hits =
      m.kind === 'extra-key'
        ? paths.includes(where)
        : paths.some((p) => p === field || p.startsWith(`${field}.`));
    if (hits) found.push({ kind: m.kind, field, value });
  }
  return found;
}
