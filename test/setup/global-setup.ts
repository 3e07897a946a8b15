import { randomBytes } from 'node:crypto';
import { createDatabase } from '@raptorflow/core/db/database';
import { migrateLatest } from '@raptorflow/data/migrate';
import { adminUrl, databaseUrlFor, templateDatabaseName, workerDatabaseName } from './test-databases';

/**
 * Migrates one template database, then clones it once per jest worker (CREATE DATABASE … TEMPLATE is a file
 * copy, far faster than migrating each). Workers find theirs through JEST_WORKER_ID; global teardown drops them.
 */
export default async function globalSetup(config: { maxWorkers: number }): Promise<void> {
  const admin = adminUrl();
  process.env.RAPTORFLOW_TEST_ADMIN_URL = admin;
  process.env.RAPTORFLOW_TEST_RUN = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  const root = createDatabase({ url: admin, poolMax: 1 });
  const template = templateDatabaseName();
  try {
    await root.raw(`CREATE DATABASE ${template}`);
    const tdb = createDatabase({ url: databaseUrlFor(template, admin), poolMax: 1 });
    await migrateLatest(tdb).finally(() => tdb.destroy());
    const workers = Math.max(1, config.maxWorkers ?? 1);
    for (let i = 1; i <= workers; i++)
      await root.raw(`CREATE DATABASE ${workerDatabaseName(i)} TEMPLATE ${template}`);
  } finally {
    await root.destroy();
  }
}
