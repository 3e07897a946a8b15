import { createDatabase } from '@raptorflow/core/db/database';
import { TEST_DB_PREFIX, adminUrl, runId } from './test-databases';

export default async function globalTeardown(): Promise<void> {
  const root = createDatabase({ url: adminUrl(), poolMax: 1 });
  try {
    const { rows } = await root.raw<{ rows: Array<{ datname: string }> }>(
      `SELECT datname FROM pg_database WHERE datname LIKE ?`,
      [`${TEST_DB_PREFIX}_${runId()}_%`],
    );
    for (const { datname } of rows) await root.raw(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await root.destroy();
  }
}
