import { z } from 'zod';

/**
 * The dates a query may name: 1970-01-01 to 9999-12-31, UTC. PostgreSQL has no year 0 (`0000-01-01` is an
 * error there, a 500 here before these existed), five-digit years break the `YYYY-…` strings the API
 * returns, and nothing in RaptorFlow predates the epoch. Every date filter of every route uses these.
 */
export const DATE_RANGE_MESSAGE = 'must be between 1970-01-01 and 9999-12-31 (UTC)';

const FIRST_MS = Date.UTC(1970, 0, 1);
const END_MS = Date.UTC(10_000, 0, 1);

// Only strings in the format (four-digit year first) are judged here; the rest are left to the format
// check's message alone (Date.parse would read some of them, e.g. `+099999-01-01`, as far-off dates).
function inRange(s: string, asDate: string = s): boolean {
  if (!/^\d{4}-/.test(s)) return true;
  const ms = Date.parse(asDate);
  return Number.isNaN(ms) || (ms >= FIRST_MS && ms < END_MS);
}

/** An instant with an offset (`2026-11-27T10:00:00Z`, `…+01:00`); the range applies to its UTC time. */
export const instantQuery = z.iso.datetime({ offset: true }).refine((s) => inRange(s), DATE_RANGE_MESSAGE);

/** A UTC calendar day, `YYYY-MM-DD`. */
export const dayQuery = z.iso.date().refine((s) => inRange(s), DATE_RANGE_MESSAGE);

/** A UTC calendar month, `YYYY-MM`. */
export const monthQuery = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
  .refine((s) => inRange(s, `${s}-01`), DATE_RANGE_MESSAGE);
