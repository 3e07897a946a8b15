import type { Knex } from 'knex';
import * as m1 from './20261127000001_workspaces';
import * as m2 from './20261127000002_agents';
import * as m3 from './20261127000003_costs';
import * as m4 from './20261127000004_audit-and-outbox';
import * as m5 from './20261127000005_langgraph-checkpoints';
import * as m6 from './20261127000006_budget-usage';
import * as m7 from './20261127000007_agent-run-execution';
import * as m8 from './20261127000008_budget-alert-delivery';
import * as m9 from './20261127000009_reservation-indexes';
import * as m10 from './20261130000010_run-agent-resolved-at-start';
import * as m11 from './20261130000011_memory-items';
import * as m12 from './20261130000012_run-tree-approvals';
import * as m13 from './20261130000013_schedules';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations are listed, not discovered on disk: the list survives bundling, so a built service can migrate
 * without the .ts sources beside it. Append new ones; never reorder or rename.
 */
const MIGRATIONS: ReadonlyArray<[string, Migration]> = [
  ['20261127000001_workspaces', m1],
  ['20261127000002_agents', m2],
  ['20261127000003_costs', m3],
  ['20261127000004_audit-and-outbox', m4],
  ['20261127000005_langgraph-checkpoints', m5],
  ['20261127000006_budget-usage', m6],
  ['20261127000007_agent-run-execution', m7],
  ['20261127000008_budget-alert-delivery', m8],
  ['20261127000009_reservation-indexes', m9],
  ['20261130000010_run-agent-resolved-at-start', m10],
  ['20261130000011_memory-items', m11],
  ['20261130000012_run-tree-approvals', m12],
  ['20261130000013_schedules', m13],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
