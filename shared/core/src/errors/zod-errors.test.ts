import { z } from 'zod';
import { ValidationFailedError } from './app-error';
import { parseOrThrow } from './zod-errors';

function fieldsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationFailedError);
    return (err as ValidationFailedError & { details: { fields: Array<{ path: string; message: string }> } })
      .details.fields;
  }
  throw new Error('expected a ValidationFailedError');
}

describe('parseOrThrow', () => {
  const schema = z.strictObject({
    name: z.string().min(1),
    inner: z.strictObject({ n: z.number() }).optional(),
  });

  it('names each unknown key of a strict object by its own path', () => {
    expect(fieldsOf(() => parseOrThrow(schema, { name: 'a', colour: 1, size: 2 }, 'body'))).toEqual([
      { path: 'body.colour', message: 'Unknown field "colour"' },
      { path: 'body.size', message: 'Unknown field "size"' },
    ]);
    expect(fieldsOf(() => parseOrThrow(schema, { name: 'a', inner: { n: 1, x: 0 } }, 'body'))).toEqual([
      { path: 'body.inner.x', message: 'Unknown field "x"' },
    ]);
  });

  it('names the offending field of other issues, and the root when there is no path', () => {
    expect(fieldsOf(() => parseOrThrow(schema, { name: '' }, 'body')).map((f) => f.path)).toEqual([
      'body.name',
    ]);
    expect(fieldsOf(() => parseOrThrow(z.string(), 1)).map((f) => f.path)).toEqual(['(root)']);
  });
});
