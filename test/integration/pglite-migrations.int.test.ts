import { createDatabase } from '@raptorflow/core/db/database';
import type { Knex } from '@raptorflow/core/db/database';
import { MIGRATION_TABLE, migrateLatest, migrateRollbackAll } from '@raptorflow/data/migrate';
import { migrationSource } from '@raptorflow/data/migrations/index';
import { startPglite } from '../support/pglite';
import type { PgliteServer } from '../support/pglite';

/**
 * The test stack's PostgreSQL has no pgvector, so the pgvector path runs on PGlite (WASM PostgreSQL with its
 * vector extension) served over the wire protocol: the project's own migrations, through the project's own
 * knex code, then vector queries. PGlite is one session behind a connection multiplexer, so the pool
 * behaviour the product relies on is checked here too.
 */
let server: PgliteServer;
let db: Knex;

beforeAll(async () => {
  server = await startPglite();
  db = createDatabase({ url: server.url, poolMax: 5, applicationName: 'raptorflow-pglite-test' });
}, 120_000);
afterAll(async () => {
  await db?.destroy();
  await server?.stop();
});

const sleep = (ms: number) => new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms));

it('applies every migration, rolls them all back and applies them again', async () => {
  const all = (await migrationSource.getMigrations([])).map((m) => migrationSource.getMigrationName(m));
  expect(all.length).toBeGreaterThanOrEqual(10);

  expect(await migrateLatest(db)).toEqual(all);
  const recorded = await db(MIGRATION_TABLE).orderBy('id').pluck('name');
  expect(recorded).toEqual(all);
  expect(await migrateLatest(db)).toEqual([]);
  for (const t of ['workspaces', 'agent_runs', 'agent_run_events', 'budget_usage', 'event_outbox'])
    expect(await db.schema.hasTable(t)).toBe(true);
  expect(await db.schema.withSchema('langgraph').hasTable('checkpoints')).toBe(true);

  expect(await migrateRollbackAll(db)).toEqual([...all].reverse());
  expect(await db.schema.hasTable('workspaces')).toBe(false);
  expect(await migrateLatest(db)).toEqual(all);
}, 60_000);

describe('pgvector', () => {
  beforeAll(async () => {
    await db.raw('CREATE EXTENSION IF NOT EXISTS vector');
    await db.raw('CREATE EXTENSION IF NOT EXISTS vector'); // idempotent, as a migration would run it
    await db.schema.createTable('pglite_embeddings', (t) => {
      t.increments('id').primary();
      t.text('label').notNullable();
      t.specificType('embedding_real_array', 'real[]').notNullable();
    });
    await db.raw(
      `CREATE INDEX pglite_embeddings_hnsw ON pglite_embeddings
         USING hnsw ((embedding_real_array::vector(3)) vector_cosine_ops)`,
    );
    await db('pglite_embeddings').insert([
      { label: 'east', embedding_real_array: [1, 0, 0] },
      { label: 'north', embedding_real_array: [0, 1, 0] },
      { label: 'up', embedding_real_array: [0, 0, 1] },
      { label: 'north-east', embedding_real_array: [1, 1, 0] },
      { label: 'far-east', embedding_real_array: [10, 0.5, 0] },
    ]);
  });

  const nearest = (trx: Knex | Knex.Transaction, query: string) =>
    trx('pglite_embeddings')
      .select('label', trx.raw('(embedding_real_array::vector(3)) <=> ?::vector(3) AS distance', [query]))
      .orderByRaw('(embedding_real_array::vector(3)) <=> ?::vector(3)', [query])
      .limit(3);

  it('has the extension and ranks by cosine distance through the HNSW index on the cast expression', async () => {
    const ext = await db('pg_extension').where({ extname: 'vector' }).first('extversion');
    expect(ext?.extversion).toMatch(/^\d+\.\d+/);

    await db.transaction(async (trx) => {
      // Five rows: without this the planner rightly prefers a sequential scan. LOCAL: the session is shared.
      await trx.raw('SET LOCAL enable_seqscan = off');
      const plan = await trx.raw(
        `EXPLAIN SELECT label FROM pglite_embeddings
          ORDER BY (embedding_real_array::vector(3)) <=> '[1,0.01,0]'::vector(3) LIMIT 3`,
      );
      expect(plan.rows.map((r: any) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan using pglite_embeddings_hnsw/,
      );
      const rows = await nearest(trx, '[1,0.01,0]');
      expect(rows[0].label).toBe('east');
      expect(rows.map((r: any) => r.label)).toEqual(['east', 'far-east', 'north-east']);
      expect(rows[0].distance).toBeLessThan(rows[1].distance);
    });
    // Cosine ignores length: the long vector pointing almost the same way is nearest.
    const rows = await nearest(db, '[20,1,0]');
    expect(rows[0]).toMatchObject({ label: 'far-east' });
    expect(rows[0].distance).toBeCloseTo(0, 5);
  });
});

describe('a knex pool through the socket multiplexer (one PGlite session behind it)', () => {
  beforeAll(async () => {
    await db.schema.createTable('pglite_pool', (t) => {
      t.integer('id').primary();
      t.text('v').notNullable();
    });
  });
  beforeEach(() => db('pglite_pool').delete());

  it('answers 5 parallel queries on 5 pooled connections, each with its own result', async () => {
    // Five connections held at once (the pool's max), one query on each, all in flight together.
    const conns = await Promise.all(Array.from({ length: 5 }, () => db.client.acquireConnection()));
    try {
      expect(new Set(conns).size).toBe(5);
      const results = await Promise.all(
        conns.map((conn, i) =>
          db
            .raw(`SELECT ?::int AS i, ?::text AS t, count(*)::int AS n FROM generate_series(1, ?::int)`, [
              i,
              `q${i}`,
              (i + 1) * 1000,
            ])
            .connection(conn),
        ),
      );
      results.forEach((r, i) => expect(r.rows[0]).toEqual({ i, t: `q${i}`, n: (i + 1) * 1000 }));
    } finally {
      for (const conn of conns) await db.client.releaseConnection(conn);
    }
  });

  it('keeps large parameterised batches from different connections apart, and one failing query to itself', async () => {
    // Each query's messages exceed one socket read (~64 KiB), and each has a different statement shape: the
    // case where the stock multiplexer let another connection's Parse replace the unnamed statement.
    const big = (n: number, k: number) => String(n * 10 + k).repeat(40_000);
    for (let round = 0; round < 3; round++) {
      const settled = await Promise.allSettled(
        Array.from({ length: 5 }, (_, n) => {
          if (n === 2) return db.raw('SELECT 1 / (?::int - ?::int) AS boom', [n, n]);
          const params = Array.from({ length: n + 1 }, (_, k) => big(n, k));
          const columns = params.map((_, k) => `length(?::text) AS c${k}`).join(', ');
          return db.raw(`SELECT ${columns}, ${n} AS n`, params);
        }),
      );
      settled.forEach((s, n) => {
        if (n === 2) {
          expect(s.status).toBe('rejected');
          expect((s as PromiseRejectedResult).reason.message).toMatch(/division by zero/);
          return;
        }
        expect(s.status).toBe('fulfilled');
        const row = (s as PromiseFulfilledResult<any>).value.rows[0];
        expect(row.n).toBe(n);
        for (let k = 0; k <= n; k++) expect(row[`c${k}`]).toBe(big(n, k).length);
      });
    }
    // Batch inserts of embeddings, the shape the pgvector path sends, in parallel.
    await db.schema.createTable('pglite_docs', (t) => {
      t.integer('id').primary();
      t.specificType('embedding', 'real[]').notNullable();
    });
    const batch = (start: number, count: number) =>
      Array.from({ length: count }, (_, j) => ({
        id: start + j,
        embedding: Array.from({ length: 256 }, (_, d) => ((start + j + d) % 7) / 7),
      }));
    await Promise.all(
      [100, 150, 200, 250, 300].map((count, i) => db('pglite_docs').insert(batch(i * 1000, count))),
    );
    expect(await db('pglite_docs').count({ n: '*' }).first()).toEqual({ n: 1000 });
  });

  it('runs a transaction on one connection while another waits: no dirty read, then the committed rows', async () => {
    const trx = await db.transaction();
    await trx('pglite_pool').insert({ id: 1, v: 'in trx' });
    expect(await trx('pglite_pool').pluck('v')).toEqual(['in trx']);
    // One session: another connection's query waits until the transaction ends (on PostgreSQL it would run
    // at once and see nothing). Code that awaits another connection inside a transaction would hang here.
    const outside = db('pglite_pool').orderBy('id').pluck('v');
    expect(await Promise.race([outside, sleep(500)])).toBe('pending');
    await trx('pglite_pool').insert({ id: 2, v: 'also in trx' });
    await trx.commit();
    expect(await outside).toEqual(['in trx', 'also in trx']);

    const rolledBack = await db.transaction();
    await rolledBack('pglite_pool').insert({ id: 3, v: 'rolled back' });
    const during = db('pglite_pool').pluck('id');
    expect(await Promise.race([during, sleep(300)])).toBe('pending');
    await rolledBack.rollback();
    expect((await during).sort()).toEqual([1, 2]);
  });

  it('serialises transactions from several pooled connections; a rolled-back one leaves nothing behind', async () => {
    let open = 0;
    let maxOpen = 0;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        db
          .transaction(async (trx) => {
            await trx('pglite_pool').insert({ id: 10 + i, v: `t${i}` });
            maxOpen = Math.max(maxOpen, ++open);
            await sleep(20);
            const seen = await trx('pglite_pool').pluck('v');
            expect(seen).toContain(`t${i}`);
            if (i !== 3) expect(seen).not.toContain('t3');
            open--;
            if (i === 3) throw new Error('abort t3');
          })
          .catch((err: Error) => {
            if (err.message !== 'abort t3') throw err;
          }),
      ),
    );
    // On PostgreSQL all five would be open at once; PGlite has one session, so they take turns.
    expect(maxOpen).toBe(1);
    expect(await db('pglite_pool').orderBy('id').pluck('v')).toEqual(['t0', 't1', 't2', 't4']);
  });
});
