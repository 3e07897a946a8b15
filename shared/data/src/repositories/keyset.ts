import type { Knex } from 'knex';

/** A position in a list ordered by (created_at, id): what a cursor decodes to. */
export interface KeysetPosition {
  t: string;
  id: string;
}

/**
 * Orders a list query by (created_at, id) and, given a cursor position, starts after it. The row comparison
 * keeps the page boundary exact when many rows share a timestamp. `alias` names the table ("w" for "w.created_at").
 */
export function orderByKeyset<Q extends Knex.QueryBuilder>(
  query: Q,
  order: 'asc' | 'desc',
  after: KeysetPosition | undefined,
  alias?: string,
): Q {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  query.orderBy([
    { column: col('created_at'), order },
    { column: col('id'), order },
  ]);
  if (after)
    query.whereRaw(
      `(${col('created_at')}, ${col('id')}) ${order === 'asc' ? '>' : '<'} (?::timestamptz, ?::uuid)`,
      [after.t, after.id],
    );
  return query;
}
