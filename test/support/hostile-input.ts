import fc from 'fast-check';

/**
 * Values that have broken, or could break, a server: bytes PostgreSQL refuses, nesting that overflows
 * recursive code, years PostgreSQL has no calendar for, sizes past the header limit, Unicode corner cases.
 */
export const NUL = 'a\u0000b';
export const LONE_SURROGATES = ['\ud800', 'x\udfffy'];
export const UNICODE_EDGES = [
  '\u200fשלום\u202e', // RTL mark and override
  'a\u200db\u200bc\ufeff', // zero-width joiner, zero-width space, BOM
  '👩‍💻🚀', // emoji: paired surrogates and a joiner sequence
  '\uffff\ufffe',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', // stacked combining marks
];
export const EXTREME_DATES = [
  '0000-01-01',
  '99999-01-01',
  '1969-12-31',
  '2026-02-30',
  'not-a-date',
  '0000-01',
  '0000-01-01T00:00:00Z',
  '99999-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.001Z',
];
/** The edges of the accepted range: valid, and must not trip anything downstream either. */
export const EDGE_DATES = [
  '1970-01-01',
  '9999-12-31',
  '9999-12',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
];
/** Past Node's 16 KiB header limit when it is in the URL; within the 1 MiB body limit in a body. */
export const HUGE = 'x'.repeat(100_000);
/** Long, but still fits in a URL. */
export const LONG = 'y'.repeat(10_000);

export const HOSTILE_STRINGS = [
  NUL,
  ...LONE_SURROGATES,
  ...UNICODE_EDGES,
  ...EXTREME_DATES,
  ...EDGE_DATES,
  LONG,
  HUGE,
];

/** `levels` objects inside each other around a string. */
export function nested(levels: number, leaf: unknown = 'leaf'): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
}

/** JSON text nested `levels` deep, built without JSON.stringify (which overflows first). */
export function nestedJson(levels: number): string {
  return `${'{"d":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
}

/**
 * Percent-encodes like encodeURIComponent, except that a lone surrogate (which encodeURIComponent refuses)
 * is sent as the three bytes a naive encoder would produce: invalid UTF-8 for the server to cope with.
 */
export function encodeLoose(s: string): string {
  return s.replace(/[\ud800-\udbff][\udc00-\udfff]|[\s\S]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c.length === 1 && code >= 0xd800 && code <= 0xdfff)
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    return encodeURIComponent(c);
  });
}

/** For the random fuzz: hostile strings among ordinary ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
);

/** For the random fuzz: any JSON-able value, with hostile strings, hostile keys and deep nesting mixed in. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything() },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 40 }).map((n) => nested(n)) },
);
