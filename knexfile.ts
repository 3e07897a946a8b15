// For the knex CLI (e.g. `npx knex migrate:status --knexfile knexfile.ts`); services migrate through @raptorflow/data/migrate.
import type { Knex } from 'knex';
import { migrationSource } from '@raptorflow/data/migrations/index';
import { getSettings } from '@raptorflow/core/config/settings';

const config: Knex.Config = {
  client: 'pg',
  connection: getSettings().databaseUrl,
  migrations: { migrationSource, tableName: 'knex_migrations' },
};

export default config;
