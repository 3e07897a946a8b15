import { randomUUID } from 'node:crypto';
import { migrationSource } from '@raptorflow/data/migrations/index';
import { MIGRATION_TABLE, migrateLatest, migrateRollbackAll } from '@raptorflow/data/migrate';
import { createDatabase } from '@raptorflow/core/db/database';
import { adminUrl, databaseUrlFor, runId } from '../setup/test-databases';
import { pgDumpSchema, schemaSnapshot, withoutKnexTables } from '../support/schema-snapshot';

const name = `raptorflow_test_${runId()}_mig_${process.env.JEST_WORKER_ID ?? '1'}`;
const root = createDatabase({ url: adminUrl(), poolMax: 1 });
const db = () => createDatabase({ url: databaseUrlFor(name), poolMax: 2 });

beforeAll(async () => {
  await root.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await root.raw(`CREATE DATABASE ${name}`);
});
afterAll(async () => {
  await root.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await root.destroy();
});

const TABLES = [
  'workspaces',
  'workspace_members',
  'workspace_budgets',
  'workspace_guardrails',
  'agents',
  'agent_runs',
  'cost_logs',
  'cost_rollups',
  'cost_rollup_folds',
  'budget_reservations',
  'budget_alerts',
  'audit_logs',
  'event_outbox',
];

it('migrates up, down to nothing, and up again', async () => {
  const d = db();
  try {
    expect((await migrateLatest(d)).length).toBeGreaterThanOrEqual(5);
    for (const t of TABLES) expect(await d.schema.hasTable(t)).toBe(true);
    expect(await d.schema.withSchema('langgraph').hasTable('checkpoints')).toBe(true);
    expect(await migrateLatest(d)).toEqual([]);
    await migrateRollbackAll(d);
    for (const t of TABLES) expect(await d.schema.hasTable(t)).toBe(false);
    expect((await migrateLatest(d)).length).toBeGreaterThanOrEqual(5);
  } finally {
    await d.destroy();
  }
});

it('rolls every migration back and forward again to the very same schema, leaving nothing behind in between', async () => {
  const d = db();
  const url = databaseUrlFor(name);
  try {
    // What a database has before any migration: a fresh one, made here.
    const pristineName = `${name}_pristine`;
    await root.raw(`CREATE DATABASE ${pristineName}`);
    const p = createDatabase({ url: databaseUrlFor(pristineName), poolMax: 1 });
    const empty = await schemaSnapshot(p).finally(async () => {
      await p.destroy();
      await root.raw(`DROP DATABASE ${pristineName} WITH (FORCE)`);
    });
    await migrateRollbackAll(d);
    await migrateLatest(d);
    const a = await schemaSnapshot(d);
    const { rows } = await d.raw(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
    const dumpA = pgDumpSchema(url, rows[0].major);
    expect(a.tables.length).toBeGreaterThanOrEqual(TABLES.length);
    expect(a.constraints.length).toBeGreaterThan(20);
    expect(a.indexes.length).toBeGreaterThan(20);

    await migrateRollbackAll(d);
    // Nothing of the project's survives a rollback of every migration (knex's own tables excepted).
    expect(withoutKnexTables(await schemaSnapshot(d))).toEqual(empty);
    expect(empty.tables).toEqual([]);

    await migrateLatest(d);
    expect(await schemaSnapshot(d)).toEqual(a);
    if (dumpA !== undefined) expect(pgDumpSchema(url, rows[0].major)).toEqual(dumpA);
  } finally {
    await d.destroy();
  }
});

it('enforces the constraints the domain relies on', async () => {
  const d = db();
  try {
    const user = randomUUID();
    const [ws] = await d('workspaces').insert({ name: 'c', created_by: user }).returning('id');
    const wsId = ws.id as string;
    await d('workspace_members').insert({ workspace_id: wsId, user_id: user, role: 'owner' });
    await expect(
      d('workspace_members').insert({ workspace_id: wsId, user_id: user, role: 'member' }),
    ).rejects.toThrow(/unique/);
    await expect(
      d('workspace_members').insert({ workspace_id: wsId, user_id: randomUUID(), role: 'king' }),
    ).rejects.toThrow(/role_check/);
    const lord = {
      workspace_id: wsId,
      key: 'seer',
      name: 'Seer',
      domain: 'd',
      description: 'd',
      default_flow: 'research',
      default_model: 'fast',
    };
    const [agent] = await d('agents').insert(lord).returning('id');
    await expect(d('agents').insert(lord)).rejects.toThrow(/unique/);
    await expect(d('agents').insert({ ...lord, key: 'x', default_flow: 'dance' })).rejects.toThrow(
      /default_flow_check/,
    );
    await expect(
      d('agent_runs').insert({
        workspace_id: wsId,
        agent_id: agent.id,
        agent_key: 'seer',
        flow: 'research',
        model: 'fast',
        status: 'lost',
        input: '{}',
      }),
    ).rejects.toThrow(/status_check/);
    // A run may lack its agent only until it starts (asked for before the workspace's Lords were seeded).
    const unresolved = {
      workspace_id: wsId,
      agent_key: 'seer',
      flow: 'research',
      model: 'fast',
      input: '{}',
    };
    await d('agent_runs').insert(unresolved);
    await expect(d('agent_runs').insert({ ...unresolved, status: 'running' })).rejects.toThrow(
      /agent_resolved_check/,
    );
    await expect(
      d('workspace_budgets').insert({ workspace_id: wsId, monthly_budget_usd: -1 }),
    ).rejects.toThrow(/nonnegative/);
    // Deleting a workspace cascades to everything it owns.
    await d('agent_runs').insert({
      workspace_id: wsId,
      agent_id: agent.id,
      agent_key: 'seer',
      flow: 'research',
      model: 'fast',
      input: '{}',
    });
    await d('audit_logs').insert({ workspace_id: wsId, actor_type: 'system', action: 'x' });
    await d('workspaces').where({ id: wsId }).delete();
    for (const t of ['workspace_members', 'agents', 'agent_runs', 'audit_logs'])
      expect(await d(t).where({ workspace_id: wsId })).toHaveLength(0);
  } finally {
    await d.destroy();
  }
});

it('rolls back runs without an agent: those whose agent exists by now get it, the others (never started) go', async () => {
  const d = db();
  const name = '20261130000010_run-agent-resolved-at-start';
  try {
    await migrateLatest(d);
    const [ws] = await d('workspaces').insert({ name: 'r', created_by: randomUUID() }).returning('id');
    const [seer] = await d('agents')
      .insert({
        workspace_id: ws.id,
        key: 'seer',
        name: 'Seer',
        domain: 'd',
        description: 'd',
        default_flow: 'research',
        default_model: 'fast',
      })
      .returning('id');
    const run = { workspace_id: ws.id, flow: 'research', model: 'fast', input: '{}' };
    const [late] = await d('agent_runs')
      .insert({ ...run, agent_key: 'seer' })
      .returning('id');
    const [never] = await d('agent_runs')
      .insert({ ...run, agent_key: 'cognition', status: 'failed' })
      .returning('id');

    await d.migrate.down({ migrationSource, tableName: MIGRATION_TABLE, name });
    expect(await d('agent_runs').where({ id: late.id }).first()).toMatchObject({ agent_id: seer.id });
    expect(await d('agent_runs').where({ id: never.id })).toHaveLength(0);
    await expect(d('agent_runs').insert({ ...run, agent_key: 'seer' })).rejects.toThrow(/agent_id/);
    expect(await migrateLatest(d)).toEqual([name]);
  } finally {
    await d.destroy();
  }
});
