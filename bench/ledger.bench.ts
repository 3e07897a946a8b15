import { getLogger } from '@raptorflow/core/logging/logger';
// bench/ledger: cost.recorded events folded per second by ONE ledger worker (in-process, concurrency as
// configured: claim + month/day upserts + threshold check, one transaction each), against a raw single-row
// INSERT loop into the same PostgreSQL, in the same run.
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Knex } from 'knex';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { nanoToDecimal } from '@raptorflow/core/money/money';
import { CostLedgerService } from '../services/cost-ledger/src/cost-ledger.service';
import { createCostLedgerWorker } from '../services/cost-ledger/src/cost-ledger.worker';
import { DeadLetterService } from '@raptorflow/events/worker/dead-letter.service';
import { workerOptions } from '../test/support/workers';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';

const MODELS = ['gemini-3.8-flash', 'gemini-3.1-pro-preview', 'claude-sonnet-5'];

export async function runLedgerBench(db: Knex, events = 4_000): Promise<string[]> {
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const concurrency = getSettings().concurrency.costLedger;
  const lines = [
    `bench/ledger (${events} events, one worker, concurrency ${concurrency}, 10 workspaces, 3 models)`,
  ];
  try {
    const userId = randomUUID();
    const wsIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const [w] = await db('workspaces')
        .insert({ name: `l${i}`, created_by: userId })
        .returning('id');
      wsIds.push(w.id);
      await db('workspace_budgets').insert({ workspace_id: w.id, monthly_budget_usd: '1000000' });
    }
    const rows = Array.from({ length: events }, (_, i) => ({
      workspace_id: wsIds[i % wsIds.length],
      provider: 'local',
      model: MODELS[i % MODELS.length],
      input_tokens: 100 + i,
      output_tokens: 50,
      cost_usd: nanoToDecimal(BigInt(1_000 + i)),
    }));
    const ids: Array<{ id: string; model: string; cost_usd: string; workspace_id: string }> = [];
    for (let i = 0; i < rows.length; i += 1_000)
      ids.push(
        ...(await db('cost_logs')
          .insert(rows.slice(i, i + 1_000))
          .returning(['id', 'model', 'cost_usd', 'workspace_id'])),
      );
    // Events first, worker second: the figure is folding, not publishing.
    for (let i = 0; i < ids.length; i += 500)
      await Promise.all(
        ids
          .slice(i, i + 500)
          .map((r) =>
            bus.publish(
              'cost.recorded',
              { cost_log_id: r.id, model: r.model, cost_usd: r.cost_usd },
              { workspaceId: r.workspace_id },
            ),
          ),
      );
    const service = new CostLedgerService({
      db,
      alerts: new BudgetAlertService({
        db,
        bus,
        audit: new AuditLogService({ db }),
        defaultBudgetUsd: getSettings().monthlyWorkspaceBudgetUsd,
      }),
      logger: getLogger(),
    });
    let t = performance.now();
    const worker = createCostLedgerWorker(
      service,
      workerOptions(
        { prefix: getSettings().queuePrefix, deadLetters: new DeadLetterService({ db }) },
        'costLedger',
        { concurrency },
      ),
    );
    try {
      for (;;) {
        const [row] = await db('cost_rollup_folds')
          .whereIn('workspace_id', wsIds)
          .count<{ c: string }[]>('* as c');
        if (Number(row?.c) >= events) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await worker.close();
    }
    const folded = (performance.now() - t) / 1000;
    const [check] = await db('cost_rollups')
      .whereIn('workspace_id', wsIds)
      .where({ period: 'month' })
      .sum<{ s: string }[]>('spent_usd as s');
    const [truth] = await db('cost_logs')
      .whereIn('workspace_id', wsIds)
      .sum<{ s: string }[]>('cost_usd as s');
    if (check?.s !== truth?.s) throw new Error(`rollups ${check?.s} ≠ cost_logs ${truth?.s}`);

    await db.raw(
      'CREATE TEMP TABLE IF NOT EXISTS bench_raw (id uuid, workspace_id uuid, model text, cost numeric(20,10))',
    );
    const conn = await db.client.acquireConnection();
    t = performance.now();
    try {
      for (let i = 0; i < events; i++)
        await conn.query('INSERT INTO bench_raw VALUES (gen_random_uuid(), $1, $2, $3)', [
          wsIds[i % 10],
          MODELS[i % 3],
          '0.000001',
        ]);
    } finally {
      await db.client.releaseConnection(conn);
    }
    const raw = (performance.now() - t) / 1000;
    await db.raw('DROP TABLE bench_raw');
    // Second yardstick: what BullMQ alone costs per job here (add → no-op worker at the same concurrency).
    const settings = getSettings();
    const rawQueue = new Queue('bench-ledger-raw', {
      connection: createRedis('producer'),
      prefix: settings.queuePrefix,
    });
    for (let i = 0; i < events; i += 500)
      await rawQueue.addBulk(
        Array.from({ length: Math.min(500, events - i) }, (_, j) => ({ name: 'x', data: { i: i + j } })),
      );
    let done = 0;
    t = performance.now();
    const rawWorker = new Worker('bench-ledger-raw', async () => void done++, {
      connection: createRedis('worker'),
      prefix: settings.queuePrefix,
      concurrency,
    });
    while (done < events) await new Promise((r) => setTimeout(r, 5));
    const bull = (performance.now() - t) / 1000;
    await rawWorker.close();
    await rawQueue.obliterate({ force: true }).catch(() => undefined);
    await rawQueue.close();
    lines.push(
      `  folded by one ledger worker:      ${(events / folded).toFixed(0)} events/s (${folded.toFixed(2)} s; rollups = SUM(cost_logs) checked)`,
      `  baseline single-row INSERT loop:  ${(events / raw).toFixed(0)} rows/s (${raw.toFixed(2)} s, one connection, autocommit)`,
      `  raw BullMQ jobs → no-op worker:   ${(events / bull).toFixed(0)} jobs/s (same concurrency)`,
      `  ratio: ${(raw / folded).toFixed(2)} of the raw insert rate, ${(bull / folded).toFixed(2)} of raw BullMQ`,
    );
    return lines;
  } finally {
    await bus
      .queue('cost')
      .obliterate({ force: true })
      .catch(() => undefined);
    await bus
      .queue('notify')
      .obliterate({ force: true })
      .catch(() => undefined);
    await bus.close();
  }
}
