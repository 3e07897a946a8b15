import { Model } from 'objection';
import * as agent from '@raptorflow/data/models/agent.model';
import * as auditLog from '@raptorflow/data/models/audit-log.model';
import * as cost from '@raptorflow/data/models/cost.model';
import * as eventOutbox from '@raptorflow/data/models/event-outbox.model';
import * as workspace from '@raptorflow/data/models/workspace.model';

const models = { ...agent, ...auditLog, ...cost, ...eventOutbox, ...workspace };
import { createDatabase } from '@raptorflow/core/db/database';

const db = createDatabase({ poolMax: 2 });
afterAll(() => db.destroy());

const modelClasses = (Object.values(models) as unknown[]).filter(
  (v): v is typeof Model =>
    typeof v === 'function' && v.prototype instanceof Model && Boolean((v as typeof Model).tableName),
);

it('has an Objection model for every table of the schema', async () => {
  const { rows } = await db.raw<{ rows: Array<{ table_name: string }> }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_%'`,
  );
  const tables = rows.map((r) => r.table_name).sort();
  expect(modelClasses.map((m) => m.tableName).sort()).toEqual(tables);
});

it.each(modelClasses.map((m) => [m.tableName, m] as const))(
  '%s model queries its table',
  async (_name, M) => {
    await expect(M.query(db).limit(1)).resolves.toEqual(expect.any(Array));
    const { rows } = await db.raw<{ rows: Array<{ column_name: string }> }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = ?`,
      [M.tableName],
    );
    const idColumns = ([] as string[]).concat(M.idColumn);
    expect(rows.map((r) => r.column_name)).toEqual(expect.arrayContaining(idColumns));
  },
);
