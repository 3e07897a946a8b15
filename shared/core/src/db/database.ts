import knexFactory from 'knex';
import type { Knex } from 'knex';
import pg from 'pg';
import { getSettings } from '../config/settings';

export type { Knex } from 'knex';

// Token counts are bigint columns but stay far below 2^53; numbers are friendlier than strings for them.
// NUMERIC (money) stays a string on purpose: exact decimals, converted only at the API edge.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface DatabaseOptions {
  /** DATABASE_URL (settings.databaseUrl), or a test's or script's own database. */
  url: string;
  poolMax?: number;
  applicationName?: string;
}

export function createDatabase(opts: DatabaseOptions): Knex {
  const { url } = opts;
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: opts.applicationName ?? 'raptorflow' },
    pool: {
      min: 0,
      max: opts.poolMax ?? 10,
      // Without this a pooled client left broken by a server restart is handed out again.
      afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
        conn.on('error', () => undefined);
        done(null, conn);
      },
    },
    acquireConnectionTimeout: 10_000,
  });
}

let shared: Knex | undefined;

/** The process-wide pool, for composition roots (each service's main.ts); everything else is handed a Knex. */
export function getDatabase(): Knex {
  shared ??= createDatabase({ url: getSettings().databaseUrl });
  return shared;
}

export async function closeDatabase(): Promise<void> {
  const db = shared;
  shared = undefined;
  if (db) await db.destroy();
}
