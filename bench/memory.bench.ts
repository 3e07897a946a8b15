// bench/memory: the Council's memory (shared/memory) in one run —
//  1. insert rate of MemoryService.write (local embedder through the ModelDispatcher, per-item INSERT and
//     audit, batches of 100) against one raw multi-row INSERT per batch of the same rows, vectors precomputed;
//  2. search latency of the full MemoryService.search (embed + vector + text + fusion, k=10) at 10k and 100k
//     items in one workspace, on the exact path (the project's PostgreSQL, no pgvector: a scan in Node) and on
//     the HNSW path (PGlite with pgvector over the wire, scripts/pglite-server.mjs), beside baselines;
//  3. recall@10 of the HNSW path against the exact top-10 computed in Node over the same float4 vectors
//     (vector side), and of its fused top-10 against the exact path's;
//  4. PASS/FAIL for HNSW p99 ≤ 50 ms at 100k and recall@10 ≥ 0.95, and ef_search as the repository sets it
//     (max(100, 2n) for n candidates) swept through the n it can be asked for.
// The 10k and 100k corpora are one corpus: the first 10k items, then 90k more. Both databases get the same
// rows (same ids, same float4 vectors) by bulk INSERT of precomputed local-embedder vectors; the HNSW index
// is built after loading (ensureMemoryVectorIndex, as migrateLatest runs it), its build timed.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import knexFactory from 'knex';
// pg's INT8 parser, as every other pool of the project has it.
import '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';
import { migrateLatest } from '@raptorflow/data/migrate';
import {
  MEMORY_EMBEDDING_DIMENSIONS,
  MEMORY_HNSW_INDEX,
  MEMORY_VECTOR_EXPRESSION,
  detectMemorySearchPath,
  ensureMemoryVectorIndex,
} from '@raptorflow/data/memory/memory-vector';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import type { Candidate } from '@raptorflow/data/repositories/memory-item.repository';
import { localEmbedding, unitVector } from '@raptorflow/llm/embeddings/local-embedder';
import { candidatePool, reciprocalRankFusion, searchTerms } from '@raptorflow/memory/memory-ranking';
import type { MemoryInput } from '@raptorflow/memory/memory.service';
import { startPglite } from '../test/support/pglite';
import type { PgliteServer } from '../test/support/pglite';
import { benchItem, benchItemId, benchQuery } from './memory-corpus';
import { DIMS, exactTop, indexOfId, mean, recallOf, similarity, stats, tieAwareRecall } from './memory-exact';
import { benchMemoryService } from './memory-wiring';
import type { BenchMemory } from './memory-wiring';

const SEED = 1;
const WRITE_SEED = 11;
const QUERY_SEED = 2;
const WARMUP_SEED = 3;
const WRITE_BATCHES = 30;
const BATCH = 100;
/** BENCH_MEMORY_SIZES=2000,6000 BENCH_MEMORY_QUERIES=50 for a quick look; the defaults are the bench. */
const SIZES = (process.env.BENCH_MEMORY_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_MEMORY_QUERIES ?? 200);
const WARMUP = 10;
/**
 * Every loop runs its queries in order until they are done or its time budget is spent (never fewer than
 * MIN_QUERIES): the exact path reads every vector of the workspace per query, and a plan that skips the index
 * would be as slow. How many ran is printed beside each figure.
 */
const EXACT_WARMUP = 1;
const EXACT_BUDGET_MS = 90_000;
const SEARCH_BUDGET_MS = 90_000;
const VECTOR_BUDGET_MS = 30_000;
const BARE_BUDGET_MS = 15_000;
const MIN_QUERIES = 10;
const K = 10;
const LOAD_ROWS = 500;
/** The HNSW build of 100k×768 on WASM needs its graph in memory to be quick (pgvector's advice). */
const MAINTENANCE_WORK_MEM = '1GB';
/** Candidate counts the repository may be asked for, and the ef_search it then sets (hnswCandidates). */
const SWEEP_N = [50, 100, 250, 500] as const;
const efSearchOf = (n: number) => Math.min(1000, Math.max(100, 2 * n));
const TARGET_P99_MS = 50;
const TARGET_RECALL = 0.95;

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const sec = (x: number) => `${(x / 1000).toFixed(1)} s`;
const rate = (n: number, msTotal: number) => Math.round((n * 1000) / msTotal).toLocaleString('en-US');
const pad = (s: string | number, n: number) => String(s).padStart(n);
const padEnd = (s: string, n: number) => s.padEnd(n);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const sizeName = (n: number) => `${n / 1000}k`;
const embeddedText = (subject: string | null, content: string) =>
  subject ? `${subject}\n${content}` : content;

/**
 * createDatabase's pool with ONE connection that is never reaped: PGlite is one session, so the budget's named
 * prepared statements outlive a pooled client, and a client created after an idle one was reaped (tarn's 30 s)
 * would prepare them again — "prepared statement … already exists". (createDatabase has min 0.)
 */
function pgliteDatabase(url: string): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: 'raptorflow-bench-memory' },
    pool: {
      min: 1,
      max: 1,
      afterCreate: (
        conn: { on(e: string, f: () => void): void },
        done: (err: Error | null, c: unknown) => void,
      ) => {
        conn.on('error', () => undefined);
        done(null, conn);
      },
    },
    acquireConnectionTimeout: 60_000,
  });
}

let clock = 0;
/** The 1-minute load average at each step: other processes on this machine show up here. */
const loads: number[] = [];
/** Where the run is, on stderr (the table goes to stdout at the end). */
const progress = (msg: string) => {
  loads.push(os.loadavg()[0]!);
  process.stderr.write(
    `  [bench/memory ${((performance.now() - clock) / 1000).toFixed(0)} s, load ${loads.at(-1)!.toFixed(1)}] ${msg}\n`,
  );
};

async function newWorkspace(db: Knex, name: string): Promise<string> {
  const [ws] = await db('workspaces')
    .insert({ name, created_by: randomUUID() })
    .returning<{ id: string }[]>('id');
  await db('workspace_budgets').insert({ workspace_id: ws!.id, monthly_budget_usd: 1_000_000 });
  return ws!.id;
}

async function timed<T>(into: number[], f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    into.push(performance.now() - t);
  }
}

/** 1. MemoryService.write vs one multi-row INSERT per batch of the same rows, batches interleaved. */
async function insertRate(db: Knex, bm: BenchMemory, lines: string[]): Promise<string> {
  const userId = randomUUID();
  const [wsWarm, wsService, wsRaw] = [
    await newWorkspace(db, 'bench-memory-warm'),
    await newWorkspace(db, 'bench-memory-write'),
    await newWorkspace(db, 'bench-memory-raw'),
  ];
  const batches: MemoryInput[][] = Array.from({ length: WRITE_BATCHES + 1 }, (_, b) =>
    Array.from({ length: BATCH }, (_, j) => {
      const i = b * BATCH + j;
      const item = benchItem(WRITE_SEED, i);
      return {
        agent: i % 4 === 0 ? 'herald' : null,
        kind: item.kind,
        // One item in five is about a subject (a lock and a look-up of the open item on it), never a repeat.
        subject: i % 5 === 0 ? `campaign-${i}` : null,
        content: item.content,
        metadata: { batch: b },
        validFrom: null,
        sourceRunId: null,
      };
    }),
  );
  const [warm, ...timedBatches] = batches;
  const stored = await bm.memory.write({ workspaceId: wsWarm, userId }, warm!);
  const model = stored[0]!.item.embedding_model;
  // The baseline's vectors, computed before its clock starts (and timed: the embedder alone).
  const tEmbed = performance.now();
  const vectors = timedBatches.map((batch) =>
    batch.map((i) => unitVector(localEmbedding(embeddedText(i.subject, i.content), DIMS))),
  );
  const embedMs = performance.now() - tEmbed;
  const rawRows = (b: number, workspaceId: string) =>
    timedBatches[b]!.map((i, j) => ({
      workspace_id: workspaceId,
      agent: i.agent,
      kind: i.kind,
      subject: i.subject,
      content: i.content,
      metadata: JSON.stringify(i.metadata),
      embedding: vectors[b]![j]!,
      embedding_model: model,
      created_by: userId,
    }));
  await db('memory_items').insert(rawRows(0, wsWarm).map((r) => ({ ...r, subject: null })));

  const service: number[] = [];
  const raw: number[] = [];
  for (let b = 0; b < timedBatches.length; b++) {
    const runService = () =>
      timed(service, () => bm.memory.write({ workspaceId: wsService, userId }, timedBatches[b]!));
    const runRaw = () => timed(raw, () => db('memory_items').insert(rawRows(b, wsRaw)));
    if (b % 2 === 0) {
      await runService();
      await runRaw();
    } else {
      await runRaw();
      await runService();
    }
  }
  const n = WRITE_BATCHES * BATCH;
  const [count] = await db('memory_items')
    .whereIn('workspace_id', [wsService, wsRaw])
    .count<{ c: string }[]>('* as c');
  if (Number(count?.c) !== 2 * n) throw new Error(`expected ${2 * n} items, found ${count?.c}`);
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const s = stats(service);
  const r = stats(raw);
  lines.push(
    `  1. insert: ${n.toLocaleString('en-US')} items per mode, ${WRITE_BATCHES} batches of ${BATCH} interleaved (1 in 5 with a subject, 1 in 4 a Lord's), PostgreSQL`,
    `     MemoryService.write (embed via dispatcher + per-item INSERT + audit, 1 txn)  ${pad(rate(n, total(service)), 7)} items/s   batch p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms`,
    `     baseline: one multi-row INSERT per batch, vectors precomputed               ${pad(rate(n, total(raw)), 7)} items/s   batch p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms`,
    `     (local embedder alone, Node: ${rate(n, embedMs)} items/s)  → the service writes at ${(total(raw) / total(service)).toFixed(3)}× the raw INSERT rate`,
  );
  return model;
}

interface SearchRun {
  latency: number[];
  embed: number[];
  vector: number[];
  text: number[];
  hits: string[][];
  vectorLists: Candidate[][];
}

const searchOf = (bm: BenchMemory, workspaceId: string) => (query: string) =>
  bm.memory.search({ workspaceId, userId: null }, { query, k: K, filters: {} });

/** `n` searches of other queries than the measured ones; their mean, ms. */
async function warm(bm: BenchMemory, workspaceId: string, n: number): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) await timed(lat, () => searchOf(bm, workspaceId)(benchQuery(WARMUP_SEED, i)));
  bm.timings.reset();
  return mean(lat);
}

async function searchLoop(
  bm: BenchMemory,
  workspaceId: string,
  queries: readonly string[],
  budgetMs: number,
): Promise<SearchRun> {
  const latency: number[] = [];
  const hits: string[][] = [];
  const start = performance.now();
  for (const q of queries) {
    if (latency.length >= MIN_QUERIES && performance.now() - start > budgetMs) break;
    const r = await timed(latency, () => searchOf(bm, workspaceId)(q));
    hits.push(r.hits.map((h) => h.item.id));
  }
  const t = bm.timings;
  const run = { latency, embed: t.embed, vector: t.vector, text: t.text, hits, vectorLists: t.vectorLists };
  t.reset();
  return run;
}

export async function runMemoryBench(db: Knex): Promise<string[]> {
  const started = performance.now();
  clock = started;
  const prefix = getSettings().queuePrefix;
  const lines = [
    `bench/memory (local embedder, ${MEMORY_EMBEDDING_DIMENSIONS} dims; exact path = the bench's PostgreSQL, HNSW path = PGlite + pgvector over the wire, 1 connection)`,
  ];
  const pg = benchMemoryService(db, 'exact', prefix);
  let server: PgliteServer | undefined;
  let lite: Knex | undefined;
  let liteBm: BenchMemory | undefined;
  try {
    progress('1. insert rate');
    const model = await insertRate(db, pg, lines);
    progress('corpus: embedding, PGlite start');

    // ---- 2. the corpus, both databases, the index ----
    server = await startPglite({ maxConnections: 4 });
    lite = pgliteDatabase(server.url);
    await migrateLatest(lite);
    if ((await detectMemorySearchPath(lite)) !== 'pgvector') throw new Error('PGlite has no HNSW index');
    liteBm = benchMemoryService(lite, 'pgvector', prefix);
    const pgPath = await detectMemorySearchPath(db);
    const wsPg = await newWorkspace(db, 'bench-memory-search');
    const wsLite = await newWorkspace(lite, 'bench-memory-search');
    // Load first, build after (the fast way on WASM): migrateLatest built the index on the empty table.
    await lite.raw(`DROP INDEX ${MEMORY_HNSW_INDEX}`);
    await lite.raw(`SET maintenance_work_mem = '${MAINTENANCE_WORK_MEM}'`);
    const [{ version: liteVersion } = { version: '?' }] = (
      await lite.raw<{ rows: { version: string }[] }>(
        `SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'`,
      )
    ).rows;

    const total = SIZES[SIZES.length - 1]!;
    let t = performance.now();
    const items = Array.from({ length: total }, (_, i) => benchItem(SEED, i));
    const vectors = new Float32Array(total * DIMS);
    items.forEach((it, i) => vectors.set(unitVector(localEmbedding(it.content, DIMS)), i * DIMS));
    const embedCorpusMs = performance.now() - t;
    const queries = Array.from({ length: QUERIES }, (_, i) => benchQuery(QUERY_SEED, i));
    // What the service's dispatcher hands the repository for each query.
    const queryVectors = queries.map((q) => unitVector(localEmbedding(q, DIMS)));
    const trueSimilarity = (id: string, q: number) => similarity(vectors, indexOfId(id), queryVectors[q]!);

    const loadMs = { pg: [] as number[], lite: [] as number[] };
    const load = async (from: number, to: number) => {
      for (let s = from; s < to; s += LOAD_ROWS) {
        const rows: Record<string, unknown>[] = [];
        for (let i = s; i < Math.min(to, s + LOAD_ROWS); i++) {
          const parts = new Array<string>(DIMS);
          // 9 significant digits: the float4 each database stores is exactly vectors[i], as Node scores it.
          for (let j = 0; j < DIMS; j++) parts[j] = vectors[i * DIMS + j]!.toPrecision(9);
          rows.push({
            id: benchItemId(SEED, i),
            agent: null,
            kind: items[i]!.kind,
            subject: null,
            content: items[i]!.content,
            metadata: '{}',
            embedding: `{${parts.join(',')}}`,
            embedding_model: model,
          });
        }
        await Promise.all([
          timed(loadMs.pg, () => db('memory_items').insert(rows.map((r) => ({ ...r, workspace_id: wsPg })))),
          timed(loadMs.lite, () =>
            lite!('memory_items').insert(rows.map((r) => ({ ...r, workspace_id: wsLite }))),
          ),
        ]);
      }
    };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const top = <T>(list: readonly T[]) => list.slice(0, K);
    const pool = candidatePool(K);

    // The repository's vector query on the HNSW path, as hnswCandidates builds it.
    const vectorSql = (n: number) =>
      `SELECT id, ${MEMORY_VECTOR_EXPRESSION} <=> ?::vector(${DIMS}) AS distance FROM memory_items
         WHERE workspace_id = ? AND embedding_model = ?
         ORDER BY ${MEMORY_VECTOR_EXPRESSION} <=> ?::vector(${DIMS}) LIMIT ${n}`;
    const vectorBindings = (q: number) => {
      const literal = `[${queryVectors[q]!.join(',')}]`;
      return [literal, wsLite, model, literal];
    };
    /** Which plan PostgreSQL picks for it with the settings hnswCandidates sets: the index, or a scan + sort. */
    const planOf = (n: number) =>
      lite!.transaction(async (trx) => {
        await trx.raw(`SET LOCAL hnsw.ef_search = ${efSearchOf(n)}`);
        await trx.raw(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
        const plan = JSON.stringify((await trx.raw(`EXPLAIN ${vectorSql(n)}`, vectorBindings(0))).rows);
        return plan.includes(MEMORY_HNSW_INDEX) ? 'HNSW index' : 'Seq Scan + Sort (exact)';
      });
    const indexScans = async () =>
      Number(
        (
          await lite!.raw<{ rows: { n: string }[] }>(
            `SELECT coalesce(sum(idx_scan), 0) AS n FROM pg_stat_user_indexes WHERE indexrelname = ?`,
            [MEMORY_HNSW_INDEX],
          )
        ).rows[0]?.n ?? 0,
      );
    /** vectorCandidates(n) on the HNSW path for every query: recall@K against `truth`, latency. */
    const vectorRun = async (
      truth: Candidate[][],
      n: number,
      { forceIndex = false, maxQueries = QUERIES }: { forceIndex?: boolean; maxQueries?: number } = {},
    ) => {
      // The HNSW scan is the one plan without a Sort: with these off the planner has no other choice.
      if (forceIndex) await lite!.raw('SET enable_seqscan = off; SET enable_sort = off');
      try {
        const plan = await planOf(n);
        const lat: number[] = [];
        const recall: number[] = [];
        const start = performance.now();
        for (let q = 0; q < maxQueries; q++) {
          if (q >= MIN_QUERIES && performance.now() - start > VECTOR_BUDGET_MS) break;
          const list = await timed(lat, () =>
            liteBm!.items.vectorCandidates('pgvector', wsLite, {}, model, queryVectors[q]!, n),
          );
          recall.push(recallOf(top(list), top(truth[q]!)));
        }
        liteBm!.timings.reset();
        return { ...stats(lat), n, plan, recall: mean(recall), queries: lat.length };
      } finally {
        if (forceIndex) await lite!.raw('RESET enable_seqscan; RESET enable_sort');
      }
    };
    /** What PostgreSQL itself spends on the exact path's query (executing it and writing its rows out). */
    const exactServerSide = async () => {
      try {
        const runs: { ms: number; mb: number }[] = [];
        for (let i = 0; i < 3; i++) {
          const { rows } = await db.raw<{ rows: { 'QUERY PLAN': Record<string, unknown>[] }[] }>(
            `EXPLAIN (ANALYZE, SERIALIZE TEXT, FORMAT JSON)
               SELECT id, array_send(embedding) AS e FROM memory_items WHERE workspace_id = ? AND embedding_model = ?`,
            [wsPg, model],
          );
          const plan = rows[0]!['QUERY PLAN'][0]!;
          const ser = plan['Serialization'] as { 'Output Volume'?: number } | undefined;
          runs.push({ ms: Number(plan['Execution Time']), mb: Number(ser?.['Output Volume'] ?? NaN) / 1024 });
        }
        return runs.sort((a, b) => a.ms - b.ms)[0];
      } catch {
        return undefined; // EXPLAIN (SERIALIZE) needs PostgreSQL 17+
      }
    };

    const table: string[] = [];
    const recallLines: string[] = [];
    const loadLines: string[] = [];
    const verdicts: string[] = [];
    let loaded = 0;
    for (const size of SIZES) {
      // ---- load up to `size` into both databases, then build the index ----
      const from = loaded;
      if (from > 0) await lite.raw(`DROP INDEX ${MEMORY_HNSW_INDEX}`);
      loadMs.pg = [];
      loadMs.lite = [];
      progress(`loading ${from}…${size} into both databases`);
      await load(from, size);
      const loadWall = { pg: sum(loadMs.pg), lite: sum(loadMs.lite) };
      progress(`building the HNSW index over ${size} on PGlite; exact ground truth in Node meanwhile`);
      // PGlite builds in its own process (one core); Node computes the ground truth on the other.
      t = performance.now();
      const building = ensureMemoryVectorIndex(lite).then((path) => {
        if (path !== 'pgvector') throw new Error(`index build on PGlite: ${path}`);
        return performance.now() - t;
      });
      const truth: Candidate[][] = [];
      const nodeScan: number[] = [];
      for (const qv of queryVectors) {
        const t0 = performance.now();
        truth.push(exactTop(SEED, vectors, size, qv, pool));
        nodeScan.push(performance.now() - t0);
      }
      const buildMs = await building;
      await db.raw('ANALYZE memory_items');
      await lite.raw('ANALYZE memory_items');
      loaded = size;
      loadLines.push(
        `     ${pad(sizeName(size), 4)}: +${(size - from).toLocaleString('en-US')} rows in ${LOAD_ROWS}-row INSERTs into both databases side by side: PostgreSQL ${sec(loadWall.pg)}, PGlite ${sec(loadWall.lite)}; then the HNSW build on PGlite (ensureMemoryVectorIndex: CREATE INDEX over all ${size.toLocaleString('en-US')}) ${sec(buildMs)}`,
      );

      // ---- exact path: as many queries as its time budget allows ----
      progress(`exact path at ${size}: up to ${QUERIES} searches or ${sec(EXACT_BUDGET_MS)}`);
      await warm(pg, wsPg, EXACT_WARMUP);
      const exact = await searchLoop(pg, wsPg, queries, EXACT_BUDGET_MS);
      const exactQueries = exact.hits.length;
      // The exact path ranks as Node does over the same float4 vectors: the ground truth is the product's own.
      const exactAgrees = exact.vectorLists.filter(
        (list, q) => JSON.stringify(list) === JSON.stringify(truth[q]),
      ).length;
      const serverSide = await exactServerSide();

      // ---- HNSW path ----
      progress(
        `HNSW path at ${size}: ${QUERIES} searches, baseline${size === total ? ', ef_search sweep' : ''}`,
      );
      await warm(liteBm, wsLite, WARMUP);
      const scansBefore = await indexScans();
      const hnsw = await searchLoop(liteBm, wsLite, queries, SEARCH_BUDGET_MS);
      const hnswQueries = hnsw.hits.length;
      const scans = (await indexScans()) - scansBefore;
      const plan = await planOf(pool);
      // Baseline: the same statement alone (no transaction, no SET LOCAL, no knex builder), session settings.
      await lite.raw(`SET hnsw.ef_search = ${efSearchOf(pool)}`);
      await lite.raw(`SET hnsw.iterative_scan = relaxed_order`);
      const bare: number[] = [];
      for (let q = 0; q < QUERIES; q++) {
        if (q >= MIN_QUERIES && sum(bare) > BARE_BUDGET_MS) break;
        await timed(bare, () => lite!.raw(vectorSql(pool), vectorBindings(q)));
      }
      await lite.raw('RESET hnsw.ef_search');
      await lite.raw('RESET hnsw.iterative_scan');
      // Where the planner declines the index, what the index itself would have given.
      const forced = plan === 'HNSW index' ? undefined : await vectorRun(truth, pool, { forceIndex: true });

      // ---- the exact path's fused answers for every query (a replica where the real one was not run) ----
      const pgItems = new MemoryItemRepository(db);
      const exactFused: string[][] = [];
      let replicaAgrees = 0;
      for (let q = 0; q < hnswQueries; q++) {
        const text = await pgItems.textCandidates(wsPg, {}, searchTerms(queries[q]!), pool);
        const replica = reciprocalRankFusion([{ items: truth[q]! }, { items: text }], K).map((f) => f.id);
        if (q < exactQueries) {
          if (JSON.stringify(replica) === JSON.stringify(exact.hits[q])) replicaAgrees++;
          exactFused.push(exact.hits[q]!);
        } else exactFused.push(replica);
      }

      const row = (label: string, run: SearchRun, baseName: string, base: number[]) => {
        const [s, em, v, x, b] = [run.latency, run.embed, run.vector, run.text, base].map(stats);
        return `     ${padEnd(label, 14)}${pad(sizeName(size), 5)} ${pad(s!.n, 4)}  ${pad(ms(s!.p50), 6)} ${pad(ms(s!.p99), 6)} │ ${pad(ms(em!.p50), 5)}/${padEnd(ms(em!.p99), 5)} ${pad(ms(v!.p50), 6)}/${padEnd(ms(v!.p99), 6)} ${pad(ms(x!.p50), 5)}/${padEnd(ms(x!.p99), 5)} │ ${baseName} ${ms(b!.p50)}/${ms(b!.p99)}`;
      };
      table.push(
        row('exact (PG)', exact, 'Node scan of the same vectors', nodeScan),
        row('HNSW (PGlite)', hnsw, 'same SQL alone, no txn      ', bare),
      );

      // ---- recall ----
      const vStrict = mean(hnsw.vectorLists.map((l, q) => recallOf(top(l), top(truth[q]!))));
      const vTies = mean(
        hnsw.vectorLists.map((l, q) => tieAwareRecall(top(l), top(truth[q]!), (id) => trueSimilarity(id, q))),
      );
      // How close the misses are: the found top-K's summed true similarity over the exact top-K's.
      const simRatio = mean(
        hnsw.vectorLists.map(
          (l, q) => sum(top(l).map((c) => trueSimilarity(c.id, q))) / sum(top(truth[q]!).map((c) => c.score)),
        ),
      );
      const fused = mean(
        hnsw.hits.map((ids, q) =>
          recallOf(
            ids.map((id) => ({ id })),
            exactFused[q]!.map((id) => ({ id })),
          ),
        ),
      );
      const sameFused = hnsw.hits.filter(
        (ids, q) => JSON.stringify(ids) === JSON.stringify(exactFused[q]),
      ).length;
      recallLines.push(
        `     ${pad(sizeName(size), 4)}: plan of the search's vector query (LIMIT ${pool}, ef_search ${efSearchOf(pool)}): ${plan}; HNSW index scans during the ${hnswQueries + WARMUP} searches: ${scans}`,
        `           vector side (top-${K} of its ${pool} candidates) ${vStrict.toFixed(3)} (exact ties counted as hits: ${vTies.toFixed(3)}; similarity of what it found / of the exact top-${K}: ${simRatio.toFixed(3)}); fused top-${K} ${fused.toFixed(3)}, identical top-${K} lists ${sameFused}/${hnswQueries}${hnswQueries < QUERIES ? ` (the ${hnswQueries} queries of its time budget)` : ''}`,
        ...(forced
          ? [
              `           the index itself (same query, enable_seqscan and enable_sort off → ${forced.plan}, ${forced.queries} queries): recall@${K} ${forced.recall.toFixed(3)}, vectorCandidates p50 ${ms(forced.p50)} ms, p99 ${ms(forced.p99)} ms`,
            ]
          : []),
        `           checks: exact path's ${pool} candidates = Node's exact top-${pool} on ${exactAgrees}/${exactQueries} queries; ` +
          (exactQueries < hnswQueries
            ? `exact search run on ${exactQueries} queries, the other ${hnswQueries - exactQueries} fused from Node's exact candidates + PostgreSQL's text candidates (that replica = the real search on ${replicaAgrees}/${exactQueries})`
            : `a replica of its fusion = the real search on ${replicaAgrees}/${hnswQueries}`),
        ...(serverSide
          ? [
              `           exact path's vector query in PostgreSQL alone (EXPLAIN ANALYZE, SERIALIZE): ${ms(serverSide.ms)} ms, ${serverSide.mb.toFixed(0)} MB of text out, of ${ms(stats(exact.vector).p50)} ms p50 end to end`,
            ]
          : []),
      );

      // How hard the data is for a graph index: how far the 10th neighbour stands from the 50th.
      const simAt = (r: number) => mean(truth.map((l) => l[r - 1]?.score ?? NaN));
      const matches: number[] = [];
      for (let q = 0; q < Math.min(20, QUERIES); q++) {
        const terms = searchTerms(queries[q]!).map((w) => `'${w}'`);
        const [c] = await db('memory_items')
          .where('workspace_id', wsPg)
          .whereRaw(`search_text @@ to_tsquery('english', ?)`, [terms.join(' | ')])
          .count<{ c: string }[]>('* as c');
        matches.push(Number(c?.c));
      }
      recallLines.push(
        `           data: mean exact similarity of the 1st/10th/50th neighbour ${simAt(1).toFixed(3)}/${simAt(K).toFixed(3)}/${simAt(pool).toFixed(3)}; the text query (OR of its words) matches ${Math.round(mean(matches)).toLocaleString('en-US')} of ${size.toLocaleString('en-US')} items on average (first ${matches.length} queries), each ranked by ts_rank_cd`,
      );

      if (size === total) {
        // ---- ef_search as the repository allows it: n candidates → max(100, 2n) ----
        // Where the planner leaves the index for a scan: a few queries as planned (slow), then the index forced.
        const sweep: string[] = [];
        for (const n of SWEEP_N) {
          const head = `       n=${pad(n, 3)} → ef_search ${pad(efSearchOf(n), 4)}:`;
          if ((await planOf(n)) === 'HNSW index') {
            const r = await vectorRun(truth, n);
            const note = r.queries < QUERIES ? ` (${r.queries} queries)` : '';
            sweep.push(`${head} ${r.recall.toFixed(3)}  ${ms(r.p50)}/${ms(r.p99)} ms  HNSW index${note}`);
          } else {
            const planned = await vectorRun(truth, n, { maxQueries: 3 });
            const f = await vectorRun(truth, n, { forceIndex: true });
            sweep.push(
              `${head} the planner takes ${planned.plan}: ${ms(planned.p50)} ms p50 (${planned.queries} queries, recall ${planned.recall.toFixed(3)}); ` +
                `index forced (enable_seqscan, enable_sort off): ${f.recall.toFixed(3)}  ${ms(f.p50)}/${ms(f.p99)} ms${f.queries < QUERIES ? ` (${f.queries} queries)` : ''}`,
            );
          }
        }
        recallLines.push(
          `     ef_search sweep at ${sizeName(size)} (vectorCandidates(n) sets ef_search = min(1000, max(100, 2n))): recall@${K}, p50/p99 ms, plan`,
          ...sweep,
        );
        const h = stats(hnsw.latency);
        const hv = stats(hnsw.vector);
        verdicts.push(
          `  4. targets at ${sizeName(size)} (HNSW path as the product runs it; plan: ${plan}):`,
          `     search p99 ≤ ${TARGET_P99_MS} ms: ${verdict(h.p99 <= TARGET_P99_MS)} (full search p99 ${ms(h.p99)} ms; its vector query p99 ${ms(hv.p99)} ms)`,
          `     recall@${K} ≥ ${TARGET_RECALL}: vector side ${verdict(vStrict >= TARGET_RECALL)} (${vStrict.toFixed(3)}); fused top-${K} ${verdict(fused >= TARGET_RECALL)} (${fused.toFixed(3)})`,
        );
      }
    }

    lines.push(
      `  2. corpus: ${total.toLocaleString('en-US')} generated items in one workspace per database (embedded in ${sec(embedCorpusMs)} in Node), ${QUERIES} generated queries, k=${K}; exact path here: ${pgPath === 'exact' ? 'no pgvector' : 'pgvector present, exact forced'}; pgvector ${liteVersion} on PGlite, HNSW defaults (m 16, ef_construction 64), maintenance_work_mem ${MAINTENANCE_WORK_MEM}`,
      ...loadLines,
      `     search latency, ms     n   p50    p99  │ embed p50/p99 vector p50/p99  text p50/p99 │ baseline p50/p99`,
      ...table,
      `     (embed = the dispatcher's embed call: budget reservation, local embedder, cost/audit trail; vector and text = the repository's two`,
      `      candidate queries, run concurrently — on PGlite's one connection one after the other, so text there includes waiting for vector)`,
      `  3. recall@${K} of the HNSW path vs the exact top-${K} (computed in Node over the same float4 vectors), ${QUERIES} queries:`,
      ...recallLines,
      ...verdicts,
      `  machine: ${os.cpus().length} cores; 1-minute load average at the steps of this run ${Math.min(...loads).toFixed(1)}…${Math.max(...loads).toFixed(1)} (other work on the machine shows up here and in every figure)`,
      `  bench/memory wall time ${sec(performance.now() - started)}`,
    );
    return lines;
  } finally {
    for (const bm of [pg, liteBm]) {
      if (!bm) continue;
      for (const queue of ['cost', 'notify'] as const)
        await bm.bus
          .queue(queue)
          .obliterate({ force: true })
          .catch(() => undefined);
      await bm.bus.close();
    }
    await lite?.destroy();
    await server?.stop();
  }
}
