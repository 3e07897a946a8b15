import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createDatabase } from '@raptorflow/core/db/database';
import { TABLE_HOMES } from '@raptorflow/data/repositories/table-homes';
import { getSettings } from '@raptorflow/core/config/settings';

/**
 * One data home per table: every table of the schema has exactly one repository holding its SQL and exactly
 * one row type. Checked against the live schema (a new migration needs a home) and the sources (SQL on a
 * table outside its home fails, naming the file).
 */
const ROOT = path.resolve(__dirname, '../..');
const REPOSITORIES = 'shared/data/src/repositories';

/**
 * SQL not moved to its repository yet, as `table: [files]`. Each entry must still be true (so the list only
 * shrinks); moving the SQL means deleting the entry.
 */
const NOT_YET_HOMED: Record<string, string[]> = {};

const db = createDatabase({ url: getSettings().databaseUrl, poolMax: 1 });
afterAll(() => db.destroy());

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (['node_modules', 'dist', 'migrations'].includes(name)) return [];
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') && !rel.endsWith('.test.ts') ? [rel] : [];
  });
}

const files = [...sources('shared'), ...sources('services')].map((f) => ({
  file: f,
  text: readFileSync(path.join(ROOT, f), 'utf8'),
}));

/** knex calls on the table (`db('t')`, `trx('t as x')`) and SQL naming it after a keyword. */
const touches = (text: string, table: string) =>
  new RegExp(
    `\\(\\s*'${table}(\\s+as\\s+\\w+)?'\\s*[),]|\\b(FROM|INTO|UPDATE|JOIN|TABLE|USING)\\s+${table}\\b`,
  ).test(text);

it('every table of the schema has a home, and every home a table', async () => {
  const { rows } = await db.raw<{ rows: Array<{ table_name: string }> }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_%'`,
  );
  expect(Object.keys(TABLE_HOMES).sort()).toEqual(rows.map((r) => r.table_name).sort());
});

// A repository's read may join another aggregate's table (a run's agent, a run's newest event); outside the
// repositories no SQL names a table at all.
it.each(Object.entries(TABLE_HOMES))('%s: its SQL lives in its repository, none outside', (table, home) => {
  const where = files.filter((f) => touches(f.text, table)).map((f) => f.file);
  if (!NOT_YET_HOMED[table]) expect(where).toContain(`${REPOSITORIES}/${home.repository}`);
  expect(where.filter((f) => !f.startsWith(`${REPOSITORIES}/`)).sort()).toEqual(
    [...(NOT_YET_HOMED[table] ?? [])].sort(),
  );
});

/** SQL writing the table (`INSERT INTO t`, `UPDATE t`, `DELETE FROM t`) and knex writes on it (`db('t').insert(`). */
const writes = (text: string, table: string) =>
  new RegExp(
    `\\b(INSERT\\s+INTO|UPDATE|DELETE\\s+FROM|TRUNCATE(\\s+TABLE)?)\\s+${table}\\b|` +
      `\\(\\s*'${table}'\\s*\\)\\s*\\.(insert|update|del|delete|upsert)\\(`,
  ).test(text);

// Inside the repositories only a table's home and its companions write it: a statement of another aggregate
// that writes it in the same round trip (the runner's step end writes audit rows and an event) composes a
// fragment the home exports, so no other file names the table in a write.
it.each(Object.entries(TABLE_HOMES))('%s: written only by its home', (table, home) => {
  const where = files.filter((f) => f.file.startsWith(`${REPOSITORIES}/`) && writes(f.text, table));
  const allowed = [home.repository, ...(home.companions ?? [])].map((f) => `${REPOSITORIES}/${f}`);
  expect(where.map((f) => f.file).filter((f) => !allowed.includes(f))).toEqual([]);
  for (const f of home.companions ?? []) expect(files.map((s) => s.file)).toContain(`${REPOSITORIES}/${f}`);
});

it.each(Object.entries(TABLE_HOMES))('%s: exactly one row type', (_table, home) => {
  const declared = files.filter((f) => new RegExp(`export (interface|type) ${home.row}\\b`).test(f.text));
  expect(declared.map((f) => f.file)).toHaveLength(1);
  expect(declared[0]!.file.startsWith(REPOSITORIES)).toBe(true);
});
