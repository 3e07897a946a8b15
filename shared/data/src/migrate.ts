import type { Knex } from 'knex';
import { migrationSource } from './migrations/index';

export const MIGRATION_TABLE = 'knex_migrations';

/** Runs pending migrations; knex's own lock table makes concurrent callers (several services) safe. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource, tableName: MIGRATION_TABLE })) as [
    number,
    string[],
  ];
  return applied;
}

export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback({ migrationSource, tableName: MIGRATION_TABLE }, true)) as [
    number,
    string[],
  ];
  return reverted;
}
