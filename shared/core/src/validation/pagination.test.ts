import { ValidationFailedError } from '../errors/app-error';
import { CursorCodec, listQuerySchema } from './pagination';

const SECRET = 'cursor-test-secret-0123456789abcdef';
const WS_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const WS_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const KEY = { t: '2025-03-04T05:06:07.890Z', id: '11111111-1111-4111-8111-111111111111' };

const codec = new CursorCodec(SECRET);
const scopeA = `agent-runs:${WS_A}`;
const scopeB = `agent-runs:${WS_B}`;

function rejection(fn: () => unknown): ValidationFailedError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ValidationFailedError);
  const err = caught as ValidationFailedError;
  expect(err.status).toBe(422);
  expect(err.code).toBe('validation_failed');
  expect(err.details).toEqual({ fields: [expect.objectContaining({ path: 'cursor' })] });
  return err;
}

/** Flips one character of a base64url string to another valid base64url character. */
function flip(s: string, index: number): string {
  const c = s[index]!;
  return s.slice(0, index) + (c === 'A' ? 'B' : 'A') + s.slice(index + 1);
}

describe('CursorCodec', () => {
  it('round-trips a keyset', () => {
    const cursor = codec.encode(KEY, scopeA);
    expect(codec.decode(cursor, scopeA)).toEqual(KEY);
  });

  it('is opaque: URL-safe and without the raw values', () => {
    const cursor = codec.encode(KEY, scopeA);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(KEY.id);
  });

  it('treats a missing or empty cursor as the first page', () => {
    expect(codec.decode(undefined, scopeA)).toBeUndefined();
    expect(codec.decode('', scopeA)).toBeUndefined();
  });

  it('rejects a cursor from another scope', () => {
    const cursor = codec.encode(KEY, scopeA);
    rejection(() => codec.decode(cursor, scopeB));
  });

  it('rejects a cursor signed with another secret', () => {
    const cursor = new CursorCodec('another-secret-entirely-0123456789').encode(KEY, scopeA);
    rejection(() => codec.decode(cursor, scopeA));
  });

  it('rejects a tampered body', () => {
    const [, sig] = codec.encode(KEY, scopeA).split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...KEY, t: '2099-01-01T00:00:00.000Z' })).toString(
      'base64url',
    );
    rejection(() => codec.decode(`${forgedBody}.${sig}`, scopeA));
    const [body] = codec.encode(KEY, scopeA).split('.');
    rejection(() => codec.decode(`${flip(body!, 3)}.${sig}`, scopeA));
  });

  it('rejects a tampered signature', () => {
    const [body, sig] = codec.encode(KEY, scopeA).split('.');
    rejection(() => codec.decode(`${body}.${flip(sig!, 0)}`, scopeA));
    rejection(() => codec.decode(`${body}.${sig!.slice(0, -1)}`, scopeA));
    rejection(() => codec.decode(`${body}.${sig}x`, scopeA));
  });

  it('rejects a correctly signed body that is not a keyset', () => {
    // a cursor signed by this codec over a payload of the wrong shape (e.g. an older cursor format)
    const wrongShape = codec.encode({ t: 'not-a-date', id: 'not-a-uuid' }, scopeA);
    rejection(() => codec.decode(wrongShape, scopeA));
  });

  it.each([
    ['no dot', 'garbage'],
    ['empty body', '.abc'],
    ['empty signature', 'abc.'],
    ['lone dot', '.'],
    ['random words', 'hello.world'],
    ['non-ascii', 'ÿÿÿ.ÿÿÿ'],
    ['huge', `${'a'.repeat(400)}.${'b'.repeat(22)}`],
  ])('rejects garbage (%s)', (_label, cursor) => {
    rejection(() => codec.decode(cursor, scopeA));
  });
});

describe('listQuerySchema', () => {
  it('defaults limit to 50 and coerces strings', () => {
    expect(listQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(listQuerySchema.parse({ limit: '10', cursor: 'abc.def' })).toEqual({
      limit: 10,
      cursor: 'abc.def',
    });
  });

  it.each(['0', '101', '2.5', 'ten'])('rejects limit=%s', (limit) => {
    expect(listQuerySchema.safeParse({ limit }).success).toBe(false);
  });
});
