import type { z } from 'zod';
import { findUnstorableText } from '../validation/input-limits';
import { ValidationFailedError } from './app-error';

/** Turns a zod failure into the API's 422 with one entry per offending field path. */
export function fromZodError(err: z.ZodError, where?: string): ValidationFailedError {
  const at = (path: readonly PropertyKey[]) =>
    [where, ...path.map(String)].filter(Boolean).join('.') || '(root)';
  // An unknown key is named by its own path (`body.colour`), one entry each, not by the object holding it.
  const fields = err.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: at([...i.path, key]), message: `Unknown field "${key}"` }))
      : [{ path: at(i.path), message: i.message }],
  );
  const first = fields[0];
  return new ValidationFailedError(
    first ? `Invalid request: ${first.path}: ${first.message}` : 'Invalid request',
    fields,
  );
}

/**
 * Parses or throws a ValidationFailedError; the one helper routes and handlers use. Before the schema, one
 * rule for every string and key of every body, query and path it is given: no NUL, no lone surrogate
 * (PostgreSQL refuses both, so they would otherwise fail later as a 500, schema or no schema — `z.unknown()`
 * payloads and record keys included).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.output<S> {
  const unstorable = findUnstorableText(value, where);
  const first = unstorable[0];
  if (first) throw new ValidationFailedError(`Invalid request: ${first.path}: ${first.message}`, unstorable);
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, where);
  return result.data;
}
