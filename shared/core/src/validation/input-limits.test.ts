import { z } from 'zod';
import { ValidationFailedError } from '../errors/app-error';
import { parseOrThrow } from '../errors/zod-errors';
import { MAX_JSON_DEPTH, exceedsDepth, findUnstorableText, unstorableTextReason } from './input-limits';

function nest(levels: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

describe('exceedsDepth', () => {
  it('counts objects and arrays alike, a top-level container as level 1', () => {
    expect(exceedsDepth('text', 0)).toBe(false);
    expect(exceedsDepth({}, 1)).toBe(false);
    expect(exceedsDepth({ a: [] }, 1)).toBe(true);
    expect(exceedsDepth(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(exceedsDepth(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    // A wide sibling does not add depth; only the deepest branch counts.
    expect(exceedsDepth({ a: nest(5), b: nest(MAX_JSON_DEPTH - 1) }, MAX_JSON_DEPTH)).toBe(false);
  });

  it('walks input far deeper than the call stack without overflowing', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(exceedsDepth(deep, MAX_JSON_DEPTH)).toBe(true);
  });
});

describe('findUnstorableText', () => {
  it('names every NUL and lone surrogate in values and keys by field path, in document order', () => {
    const problems = findUnstorableText(
      { name: 'a\u0000', list: ['ok', 'x\udc00'], nested: { ['k\u0000']: 'v', fine: '👩‍💻' }, hi: '\ud800!' },
      'body',
    );
    expect(problems).toEqual([
      { path: 'body.name', message: expect.stringMatching(/NUL/) },
      { path: 'body.list.1', message: expect.stringMatching(/surrogate/) },
      { path: 'body.nested.k\\u0000', message: expect.stringMatching(/^key .*NUL/) },
      { path: 'body.hi', message: expect.stringMatching(/surrogate/) },
    ]);
  });

  it('takes what PostgreSQL stores: emoji, RTL and zero-width marks, U+FFFF, other control characters', () => {
    for (const s of ['👩‍💻', '\u200f\u202e', '\u200d\u200b', '\uffff', '\u0001\u001f', '\ud83d\ude00'])
      expect({ s, reason: unstorableTextReason(s) }).toEqual({ s, reason: undefined });
    expect(findUnstorableText({ a: [1, null, true, new Date(0)] }, 'query')).toEqual([]);
  });

  it('stops at the cap and copes with shared and cyclic references', () => {
    expect(
      findUnstorableText(
        Array.from({ length: 50 }, () => '\u0000'),
        'body',
        10,
      ),
    ).toHaveLength(10);
    const cyclic: Record<string, unknown> = { s: '\u0000' };
    cyclic.self = cyclic;
    expect(findUnstorableText(cyclic)).toEqual([{ path: 's', message: expect.any(String) }]);
  });
});

describe('parseOrThrow', () => {
  it('refuses unstorable text before the schema, even where the schema takes anything', () => {
    let caught: unknown;
    try {
      parseOrThrow(z.record(z.string(), z.unknown()), { data: { deep: ['\u0000'] } }, 'body.payload');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationFailedError);
    expect((caught as ValidationFailedError).details).toEqual({
      fields: [{ path: 'body.payload.data.deep.0', message: expect.stringMatching(/NUL/) }],
    });
    expect(parseOrThrow(z.object({ a: z.string() }), { a: 'fine ✓' }, 'body')).toEqual({ a: 'fine ✓' });
  });
});
