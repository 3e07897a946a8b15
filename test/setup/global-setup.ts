import type { Config } from 'jest';
import { createDatabase, migrateLatest } from '../../shared/src';
import { TEST_DB_PREFIX, adminUrl, databaseUrlFor, workerDatabaseName } from './test-databases';

/**
 * Migrates one template database, then clones it once per jest worker (CREATE DATABASE … TEMPLATE is a file
 * copy, far faster than migrating each). Workers find theirs through JEST_WORKER_ID.
 */
export default async function globalSetup(config: { maxWorkers: number } & Partial<Config>): Promise<void> {
  const admin = adminUrl();
  process.env.RAPTORFLOW_TEST_ADMIN_URL = admin;
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  const root = createDatabase({ url: admin, poolMax: 1 });
  const template = `${TEST_DB_PREFIX}_template`;
  try {
    await root.raw(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await root.raw(`CREATE DATABASE ${template}`);
    const tdb = createDatabase({ url: databaseUrlFor(template, admin), poolMax: 1 });
    await migrateLatest(tdb).finally(() => tdb.destroy());
    const workers = Math.max(1, config.maxWorkers ?? 1);
    for (let i = 1; i <= workers; i++) {
      const name = workerDatabaseName(i);
      await root.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await root.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    }
  } finally {
    await root.destroy();
  }
}
