import { getLogger } from '@raptorflow/core/logging/logger';
import type { Worker } from 'bullmq';
import { HealthService, httpStatusFor } from '@raptorflow/core/health/health.service';
import { createDatabase } from '@raptorflow/core/db/database';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import { createCostLedgerWorker } from '../../services/cost-ledger/src/cost-ledger.worker';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';
import { budgetAlerts } from '../support/ledger';

const stack = openStack();
const workers: Worker[] = [];
afterAll(() => stack.close(workers));

async function costRow(workspaceId: string, model: string, cost: string, at: string) {
  const [row] = await stack
    .db('cost_logs')
    .insert({
      workspace_id: workspaceId,
      provider: 'local',
      model,
      input_tokens: 100,
      output_tokens: 50,
      cost_usd: cost,
      created_at: at,
    })
    .returning('id');
  return row.id as string;
}

describe('cost-ledger worker', () => {
  it('folds each cost row once into the month and day rollups, exactly, under redelivery', async () => {
    workers.push(
      createCostLedgerWorker(
        new CostLedgerService({
          db: stack.db,
          alerts: budgetAlerts(stack),
          logger: getLogger(),
        }),
        workerOptions(stack, 'costLedger'),
      ),
    );
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    const a = await costRow(ws.id, 'gemini-3.8-flash', '0.0000001234', '2026-11-03T23:59:59.999Z');
    const b = await costRow(ws.id, 'gemini-3.8-flash', '0.1000000001', '2026-11-04T00:00:00.000Z');
    for (const id of [a, b, a]) {
      await stack.bus.publish(
        'cost.recorded',
        { cost_log_id: id, model: 'gemini-3.8-flash', cost_usd: '0' },
        { workspaceId: ws.id },
      );
    }
    await eventually(
      async () => (await stack.db('cost_rollup_folds').where({ workspace_id: ws.id })).length === 2,
    );
    await eventually(
      async () =>
        ((await stack.bus.queue('cost').getJobCounts('completed')).completed ?? 0) >= 3 || undefined,
    );
    const month = await stack.db('cost_rollups').where({ workspace_id: ws.id, period: 'month' });
    expect(month).toHaveLength(1);
    expect(month[0]).toMatchObject({
      calls: 2,
      input_tokens: 200,
      output_tokens: 100,
      spent_usd: '0.1000001235',
    });
    const days = await stack
      .db('cost_rollups')
      .where({ workspace_id: ws.id, period: 'day' })
      .orderBy('period_start');
    expect(days.map((d) => [d.calls, d.spent_usd])).toEqual([
      [1, '0.0000001234'],
      [1, '0.1000000001'],
    ]);
  });
});

describe('health', () => {
  it('is down (503) when Redis does not answer, naming no credentials', async () => {
    const db = createDatabase({ url: getSettings().databaseUrl, poolMax: 1 });
    const deadRedis = createRedis('client', 'redis://:hunter2@127.0.0.1:1');
    try {
      const report = await new HealthService({
        service: 't',
        db,
        redis: deadRedis,
        settings: getSettings(),
        models: () => [],
        timeoutMs: 500,
      }).check();
      expect(report.status).toBe('down');
      expect(report.checks.redis.status).toBe('down');
      expect(report.checks.database.status).toBe('ok');
      expect(httpStatusFor(report)).toBe(503);
      expect(JSON.stringify(report)).not.toContain('hunter2');
    } finally {
      deadRedis.disconnect();
      await db.destroy();
    }
  });
});
