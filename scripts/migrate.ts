// npm run migrate [-- --rollback-all]  — migrates DATABASE_URL (or the embedded development database).
import path from 'node:path';
import { createDatabase } from '@raptorflow/core/db/database';
import { migrateLatest, migrateRollbackAll } from '@raptorflow/data/migrate';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { ROOT, ensurePostgres } from './lib/local-stack';

async function main(): Promise<void> {
  const pg = await ensurePostgres(process.env, path.join(ROOT, '.data'));
  const db = createDatabase({ url: pg.url, poolMax: 2 });
  try {
    if (process.argv.includes('--rollback-all')) {
      const reverted = await migrateRollbackAll(db);
      console.log(reverted.length ? `rolled back: ${reverted.join(', ')}` : 'nothing to roll back');
    } else {
      const applied = await migrateLatest(db, (m) => console.warn(m));
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      console.log(`memory search path: ${await detectMemorySearchPath(db)}`);
    }
  } finally {
    await db.destroy();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
