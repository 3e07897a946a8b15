import type { Knex } from 'knex';
import { ensureMemoryVectorIndex } from './memory/memory-vector';
import { migrationSource } from './migrations/index';

export const MIGRATION_TABLE = 'knex_migrations';

/**
 * Runs pending migrations (knex's own lock table makes concurrent callers, several services, safe), then
 * enables pgvector's index for memory where the server has the extension (see memory-vector.ts).
 */
export async function migrateLatest(db: Knex, log?: (message: string) => void): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource, tableName: MIGRATION_TABLE })) as [
    number,
    string[],
  ];
  await ensureMemoryVectorIndex(db, log);
  return applied;
}

export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback({ migrationSource, tableName: MIGRATION_TABLE }, true)) as [
    number,
    string[],
  ];
  return reverted;
}
