import { spawnSync } from 'node:child_process';
import type { Knex } from 'knex';

/**
 * The schema of a database as pg_dump --schema-only would print it, read from pg_catalog instead (Debian's
 * pg_dump 15 refuses the embedded PostgreSQL 18 the tests use in CI): schemas, extensions, tables with their
 * columns (type, default, nullability, identity), constraints, indexes, functions, triggers, views,
 * sequences, types and comments. System schemas and objects owned by an extension are left out.
 */
const OURS = `n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'`;
/** Not created by an extension (their objects come and go with the extension itself). */
const notFromExtension = (classId: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classId}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const QUERIES = {
  schemas: `SELECT n.nspname AS x FROM pg_namespace n WHERE ${OURS}`,
  extensions: `SELECT e.extname || ' in ' || n.nspname AS x FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`,
  tables: `SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' persistence=' || c.relpersistence::text AS x
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE ${OURS} AND c.relkind IN ('r', 'p', 'f') AND ${notFromExtension('pg_class', 'c.oid')}`,
  // Column order matters to pg_dump (and to SELECT *): the position among live columns is part of the fact.
  columns: `SELECT n.nspname || '.' || c.relname || ' #' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
                   || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                   || COALESCE(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
                   || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
                   || CASE WHEN a.attgenerated <> '' THEN ' GENERATED' ELSE '' END
                   || COALESCE(' COLLATE ' || co.collname, '') AS x
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
              LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
                   AND co.collname <> 'default'
             WHERE ${OURS} AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
               AND ${notFromExtension('pg_class', 'c.oid')}`,
  constraints: `SELECT n.nspname || '.' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) AS x
                  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${OURS}`,
  indexes: `SELECT pg_get_indexdef(i.indexrelid) AS x FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE ${OURS} AND ${notFromExtension('pg_class', 'c.oid')}`,
  functions: `SELECT pg_get_functiondef(p.oid) AS x FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE ${OURS} AND p.prokind IN ('f', 'p') AND ${notFromExtension('pg_proc', 'p.oid')}`,
  triggers: `SELECT pg_get_triggerdef(t.oid) AS x FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${OURS} AND NOT t.tgisinternal`,
  views: `SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' AS ' || pg_get_viewdef(c.oid) AS x
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE ${OURS} AND c.relkind IN ('v', 'm') AND ${notFromExtension('pg_class', 'c.oid')}`,
  sequences: `SELECT n.nspname || '.' || c.relname || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart
                     || ' inc ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
                     || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                     || COALESCE(' owned by ' || oc.relname || '.' || oa.attname, '') AS x
                FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                LEFT JOIN pg_class oc ON oc.oid = d.refobjid
                LEFT JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
               WHERE ${OURS} AND ${notFromExtension('pg_class', 'c.oid')}`,
  types: `SELECT n.nspname || '.' || t.typname || ' ' || t.typtype::text
                 || COALESCE(' (' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                        FROM pg_enum e WHERE e.enumtypid = t.oid) || ')', '')
                 || CASE WHEN t.typtype = 'd' THEN ' ' || format_type(t.typbasetype, t.typtypmod) ELSE '' END AS x
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE ${OURS} AND t.typtype IN ('e', 'd', 'r')
             AND ${notFromExtension('pg_type', 't.oid')}`,
  comments: `SELECT n.nspname || '.' || c.relname || COALESCE('.' || a.attname, '') || ': ' || d.description AS x
               FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
              WHERE ${OURS}`,
} satisfies Record<string, string>;

export type SchemaSnapshot = Record<keyof typeof QUERIES, string[]>;

export async function schemaSnapshot(db: Knex): Promise<SchemaSnapshot> {
  const out: Partial<SchemaSnapshot> = {};
  for (const [kind, sql] of Object.entries(QUERIES)) {
    const { rows } = await db.raw<{ rows: Array<{ x: string }> }>(sql);
    out[kind as keyof SchemaSnapshot] = rows.map((r) => r.x).sort();
  }
  return out as SchemaSnapshot;
}

/** The snapshot without knex's own bookkeeping tables (they outlive a rollback of every migration). */
export function withoutKnexTables(s: SchemaSnapshot): SchemaSnapshot {
  const knexOwned = /(^|\.|\s|")knex_migrations(_lock)?(_id_seq|_pkey|_index)?\b/;
  return Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, v.filter((x) => !knexOwned.test(x))]),
  ) as SchemaSnapshot;
}

/**
 * `pg_dump --schema-only` of `url` when a pg_dump of the server's major version is on PATH; undefined
 * otherwise (pg_dump refuses a newer server, and an older one's output differs from the server's own).
 * The `\restrict` key lines (random per dump since 15.14/16.10/17.6) are dropped.
 */
export function pgDumpSchema(url: string, serverMajor: number): string | undefined {
  const version = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' });
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version.stdout ?? '')?.[1]);
  if (version.status !== 0 || major !== serverMajor) return undefined;
  const dump = spawnSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', url], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
  return dump.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}
