import type { Knex } from 'knex';

/** Every memory embedding has this many dimensions (Gemini's recommended 768; the local embedder matches). */
export const MEMORY_EMBEDDING_DIMENSIONS = 768;

/** How memory search finds near vectors: pgvector's HNSW index, or an exact scan of the workspace's items. */
export type MemorySearchPath = 'pgvector' | 'exact';

export const MEMORY_HNSW_INDEX = 'memory_items_embedding_hnsw';

/** The expression the HNSW index is built on; queries must use exactly it for the planner to pick the index. */
export const MEMORY_VECTOR_EXPRESSION = `(embedding::vector(${MEMORY_EMBEDDING_DIMENSIONS}))`;

/** Which path this database serves: the HNSW index exists, or it does not. */
export async function detectMemorySearchPath(db: Knex): Promise<MemorySearchPath> {
  const { rows } = await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_indexes WHERE indexname = ?`, [
    MEMORY_HNSW_INDEX,
  ]);
  return rows.length > 0 ? 'pgvector' : 'exact';
}

/**
 * Run after the migrations, every time (so enabling pgvector later needs only a restart): where the server
 * offers the `vector` extension and this role may create it, create it and the HNSW index (cosine). Where
 * it does not, memory works the same through an exact scan. Never throws for a missing or forbidden
 * extension: that is the exact path, not an error.
 */
export async function ensureMemoryVectorIndex(
  db: Knex,
  log: (message: string) => void = () => undefined,
): Promise<MemorySearchPath> {
  if ((await detectMemorySearchPath(db)) === 'pgvector') return 'pgvector';
  const { rows } = await db.raw<{ rows: unknown[] }>(
    `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
  );
  if (rows.length === 0) return 'exact';
  try {
    // Several services migrate at start-up at once: one of them builds the index, the others wait for it.
    await db.transaction(async (trx) => {
      await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('raptorflow:memory-vector-index'))`);
      await trx.raw(`CREATE EXTENSION IF NOT EXISTS vector`);
      await trx.raw(
        `CREATE INDEX IF NOT EXISTS ${MEMORY_HNSW_INDEX} ON memory_items
           USING hnsw (${MEMORY_VECTOR_EXPRESSION} vector_cosine_ops)`,
      );
    });
  } catch (err) {
    log(
      `pgvector is available but could not be enabled (${err instanceof Error ? err.message : String(err)}); memory search uses the exact scan`,
    );
    return 'exact';
  }
  return 'pgvector';
}
