import type { Knex } from 'knex';

/**
 * LangGraph's PostgresSaver keeps run checkpoints in its own schema. The DDL mirrors the saver's own
 * migrations (v0..v4) and records them as applied, so `setup()` finds nothing left to do and the schema
 * stays under knex's control like every other table.
 */
export const LANGGRAPH_SCHEMA = 'langgraph';

export async function up(knex: Knex): Promise<void> {
  const s = LANGGRAPH_SCHEMA;
  await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${s}.checkpoint_migrations (v INTEGER PRIMARY KEY)`);
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${s}.checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT,
    checkpoint JSONB NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))`);
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${s}.checkpoint_blobs (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BYTEA,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version))`);
  await knex.raw(`CREATE TABLE IF NOT EXISTS ${s}.checkpoint_writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT,
    blob BYTEA NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))`);
  await knex.raw(
    `INSERT INTO ${s}.checkpoint_migrations (v) VALUES (0),(1),(2),(3),(4) ON CONFLICT DO NOTHING`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP SCHEMA IF EXISTS ${LANGGRAPH_SCHEMA} CASCADE`);
}
