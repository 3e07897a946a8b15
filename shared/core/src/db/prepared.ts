import type { Knex } from 'knex';
import type pg from 'pg';

export interface PreparedStatement {
  /** Unique per statement text: PostgreSQL keeps one plan per name per connection. */
  name: string;
  text: string;
}

/**
 * Runs a hot-path statement as a named prepared statement, planned once per connection instead of on every
 * call. Inside a transaction, knex's transaction client hands out that transaction's own connection. Behind
 * PgBouncer this needs session pooling, or transaction pooling with `max_prepared_statements` (1.21+).
 */
export async function runPrepared<R>(
  db: Knex | Knex.Transaction,
  statement: PreparedStatement,
  values: unknown[],
): Promise<{ rows: R[] }> {
  const conn = (await db.client.acquireConnection()) as pg.PoolClient;
  try {
    return await conn.query<R & pg.QueryResultRow>({ ...statement, values });
  } finally {
    await db.client.releaseConnection(conn);
  }
}
