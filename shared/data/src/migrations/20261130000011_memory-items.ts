import type { Knex } from 'knex';

/**
 * The Council's memory (SPEC §13): items per workspace, optionally one Lord's, with validity intervals so a
 * superseded fact is closed, never overwritten. The embedding is a plain `real[]` on every server, so the
 * table is the same with or without pgvector; where pgvector exists, an HNSW index over the expression
 * `embedding::vector(768)` is added by memory-vector.ts after the migrations (an extension this role may
 * not be allowed to create must not fail a migration).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE memory_items (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      agent text NULL,
      kind text NOT NULL CHECK (kind IN ('fact','finding','brief','brand','decision','asset')),
      subject text NULL CHECK (subject IS NULL OR char_length(subject) BETWEEN 1 AND 200),
      content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 8000),
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      embedding real[] NOT NULL CHECK (array_length(embedding, 1) = 768),
      embedding_model text NOT NULL,
      search_text tsvector GENERATED ALWAYS AS
        (to_tsvector('english', coalesce(subject, '') || ' ' || content)) STORED,
      valid_from timestamptz(3) NOT NULL DEFAULT now(),
      valid_to timestamptz(3) NULL CHECK (valid_to IS NULL OR valid_to >= valid_from),
      source_run_id uuid NULL REFERENCES agent_runs(id) ON DELETE SET NULL,
      created_by uuid NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    )`);
  await knex.raw(`CREATE INDEX memory_items_list ON memory_items (workspace_id, created_at, id)`);
  await knex.raw(`CREATE INDEX memory_items_search_text ON memory_items USING gin (search_text)`);
  await knex.raw(
    `CREATE INDEX memory_items_source_run ON memory_items (source_run_id) WHERE source_run_id IS NOT NULL`,
  );
  // At most one open item per subject of one Lord (or of the Council): what a new fact supersedes.
  await knex.raw(
    `CREATE UNIQUE INDEX memory_items_open_subject ON memory_items (workspace_id, coalesce(agent, ''), subject)
       WHERE subject IS NOT NULL AND valid_to IS NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS memory_items`);
}
