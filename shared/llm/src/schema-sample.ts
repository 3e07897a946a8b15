/**
 * A deterministic JSON value that satisfies a JSON Schema (the subset zod's `z.toJSONSchema` writes: objects,
 * arrays, strings, numbers, integers, booleans, enums, consts, anyOf/oneOf, nullable types and local `$ref`s).
 * The offline `local` provider answers structured requests with it, and the test fakes use it as the default
 * answer, so an answer is always schema-valid without a model. The same seed gives the same value.
 */

/** The words the offline answers are made of. */
export const SAMPLE_WORDS: readonly string[] = [
  'audience',
  'brand',
  'campaign',
  'channel',
  'conversion',
  'creative',
  'insight',
  'launch',
  'message',
  'offer',
  'positioning',
  'retention',
  'segment',
  'signal',
  'story',
  'trend',
];

type Schema = Record<string, unknown>;

export interface SampleOptions {
  /** Bytes the choices are drawn from (a digest of the request); cycled when exhausted. */
  seed: Uint8Array;
  /** What the sentences are about (the request's subject). */
  topic: string;
}

/** The sentence every string is made of: plain words, so guardrail tests can aim at them. */
export function sampleSentence(a: string, b: string, topic: string): string {
  return `Focus the ${a} on the ${b} that matters most for ${topic}.`;
}

export function sampleFromSchema(schema: Record<string, unknown>, opts: SampleOptions): unknown {
  const topic = opts.topic.replace(/\s+/g, ' ').trim().slice(0, 80) || 'the request';
  const sampler = new Sampler(opts.seed.length > 0 ? opts.seed : new Uint8Array([7]), topic, schema);
  return sampler.value(schema, 0);
}

class Sampler {
  private cursor = 0;

  constructor(
    private readonly seed: Uint8Array,
    private readonly topic: string,
    private readonly root: Schema,
  ) {}

  private byte(): number {
    return this.seed[this.cursor++ % this.seed.length]!;
  }

  value(schema: Schema, depth: number): unknown {
    if (depth > 12) return null;
    const ref = schema.$ref;
    if (typeof ref === 'string') return this.value(this.resolve(ref), depth + 1);
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0)
      return schema.enum[this.byte() % schema.enum.length];
    const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (Array.isArray(variants) && variants.length > 0) {
      // The first variant that is not plain null: an answer with content is the useful default.
      const pick = variants.find((v) => v.type !== 'null') ?? variants[0]!;
      return this.value(pick, depth + 1);
    }
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const type = types.find((t) => t !== 'null') ?? types[0];
    switch (type) {
      case 'object':
        return this.object(schema, depth);
      case 'array':
        return this.array(schema, depth);
      case 'integer':
      case 'number':
        return this.number(schema, type === 'integer');
      case 'boolean':
        return this.byte() % 2 === 0;
      case 'null':
        return null;
      default:
        return this.string(schema);
    }
  }

  private resolve(ref: string): Schema {
    const path = ref.replace(/^#\/?/, '').split('/').filter(Boolean);
    let node: unknown = this.root;
    for (const key of path) node = (node as Schema | undefined)?.[key];
    if (!node || typeof node !== 'object') throw new Error(`unresolvable $ref ${ref}`);
    return node as Schema;
  }

  private object(schema: Schema, depth: number): Record<string, unknown> {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(props)) out[key] = this.value(prop, depth + 1);
    return out;
  }

  private array(schema: Schema, depth: number): unknown[] {
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
    const n = Math.max(min, Math.min(max, 3 + (this.byte() % 3)));
    const items = (schema.items ?? { type: 'string' }) as Schema;
    return Array.from({ length: n }, () => this.value(items, depth + 1));
  }

  private number(schema: Schema, integer: boolean): number {
    // Unbounded is 1: a schema whose bounds were moved into its description (Claude's structured outputs
    // cannot enforce them) most likely wants a small positive number, like a week or a position.
    const lo = typeof schema.minimum === 'number' ? schema.minimum : 1;
    const hi = typeof schema.maximum === 'number' ? schema.maximum : lo;
    const span = Math.max(0, hi - lo);
    const v = lo + (span === 0 ? 0 : (this.byte() / 255) * span);
    return integer ? Math.min(Math.floor(hi), Math.max(Math.ceil(lo), Math.round(v))) : v;
  }

  private string(schema: Schema): string {
    const a = SAMPLE_WORDS[this.byte() % SAMPLE_WORDS.length]!;
    const b = SAMPLE_WORDS[this.byte() % SAMPLE_WORDS.length]!;
    let s = sampleSentence(a, b, this.topic);
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
    while (s.length < min) s = `${s} ${s}`;
    return s.slice(0, max);
  }
}
