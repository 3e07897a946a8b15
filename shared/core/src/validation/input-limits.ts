import type { FieldProblem } from '../errors/app-error';

/**
 * Limits on what a request may carry, whatever its route. JSON nested deeper than this is refused when the
 * body is parsed: recursive code further down (JSON.stringify on the way to the outbox, zod, pino) would
 * otherwise overflow the stack on a 20 kB body. No request of this API needs more than a handful of levels.
 */
export const MAX_JSON_DEPTH = 32;

// PostgreSQL refuses both in text and jsonb ("invalid byte sequence", "unsupported Unicode escape
// sequence", "Unicode low surrogate must follow a high surrogate"), which would surface as a 500.
const NUL = '\u0000';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Why PostgreSQL would refuse this text, or undefined when it takes it. */
export function unstorableTextReason(s: string): string | undefined {
  if (s.includes(NUL)) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode text (no lone surrogates)';
  return undefined;
}

/** Containers a request can hold (parsed JSON, query objects); Dates, Buffers and the like are left alone. */
function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` nests arrays/objects more than `limit` levels deep (a top-level object is level 1).
 * Walks with its own stack, so the check itself cannot overflow on the input it exists to refuse.
 */
export function exceedsDepth(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (!isContainer(v)) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (isContainer(child)) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** A key as it appears in a field path: the offending characters spelled out, so the path itself is clean. */
function printableKey(key: string): string {
  const spelled = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return key.split(NUL).join(spelled(NUL)).replace(LONE_SURROGATES, spelled);
}

/**
 * Every string and object key in `value` that PostgreSQL cannot store, as field paths under `where`
 * (`body.input.topic`, `query.action`, `path.id`), at most `max` of them. Iterative, like exceedsDepth.
 */
export function findUnstorableText(value: unknown, where?: string, max = 10): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<object>();
  // Each entry: a value, its path, and why its own key is unstorable (then the value is not looked into).
  const stack: Array<[unknown, string[], string | undefined]> = [[value, where ? [where] : [], undefined]];
  while (stack.length > 0 && problems.length < max) {
    const [v, path, keyReason] = stack.pop()!;
    if (keyReason) {
      problems.push({ path: path.join('.'), message: `key ${keyReason}` });
      continue;
    }
    if (typeof v === 'string') {
      const reason = unstorableTextReason(v);
      if (reason) problems.push({ path: path.join('.') || '(root)', message: reason });
      continue;
    }
    if (!isContainer(v) || seen.has(v)) continue;
    seen.add(v);
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((item, i) => [String(i), item])
      : Object.entries(v);
    // Pushed in reverse so problems come out in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const own = Array.isArray(v) ? undefined : unstorableTextReason(key);
      stack.push([child, [...path, printableKey(key)], own]);
    }
  }
  return problems.slice(0, max);
}
