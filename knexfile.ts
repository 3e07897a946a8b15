// For the knex CLI (e.g. `npx knex migrate:status --knexfile knexfile.ts`); services use shared/src/db.
import type { Knex } from 'knex';
import { migrationSource } from './migrations';
import { getSettings } from './shared/src/config/settings';

const config: Knex.Config = {
  client: 'pg',
  connection: getSettings().databaseUrl,
  migrations: { migrationSource, tableName: 'knex_migrations' },
};

export default config;
