import type { z } from 'zod';
import { DATE_RANGE_MESSAGE, dayQuery, instantQuery, monthQuery } from './date.schemas';

function messages(schema: z.ZodType, value: string): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('the shared date query schemas', () => {
  it.each([
    [instantQuery, '1970-01-01T00:00:00Z'],
    [instantQuery, '9999-12-31T23:59:59.999Z'],
    [instantQuery, '2026-11-27T10:00:00+01:00'],
    [dayQuery, '1970-01-01'],
    [dayQuery, '9999-12-31'],
    [monthQuery, '1970-01'],
    [monthQuery, '9999-12'],
  ])('accept %#: %s', (schema, value) => {
    expect(messages(schema, value)).toEqual([]);
  });

  it.each([
    [instantQuery, '0000-01-01T00:00:00Z'],
    [instantQuery, '1969-12-31T23:59:59Z'],
    // 23:00 on the last day at UTC−05:00 is already year 10000 in UTC.
    [instantQuery, '9999-12-31T23:00:00-05:00'],
    [instantQuery, '1970-01-01T00:30:00+01:00'],
    [dayQuery, '0000-01-01'],
    [dayQuery, '1969-12-31'],
    [monthQuery, '0000-01'],
    [monthQuery, '1969-12'],
  ])('refuse %#: %s as out of range', (schema, value) => {
    expect(messages(schema, value)).toEqual([DATE_RANGE_MESSAGE]);
  });

  it.each([
    [instantQuery, '99999-01-01T00:00:00Z'],
    [instantQuery, 'yesterday'],
    [dayQuery, '2026-02-30'],
    [dayQuery, '+099999-01-01'],
    [monthQuery, '2026-13'],
    [monthQuery, '99999-01'],
  ])('refuse %#: %s as malformed, with one message', (schema, value) => {
    const m = messages(schema, value);
    expect(m).toHaveLength(1);
    expect(m[0]).not.toBe(DATE_RANGE_MESSAGE);
  });
});
