import { getLogger } from '@raptorflow/core/logging/logger';
// bench/ledger: cost.recorded events folded per second by ONE ledger worker (in-process: the worker's
// group-committed folds, i.e. claims + month/day upserts + threshold check for every batch of events that
// arrived during the previous fold), at the configured concurrency and at BATCH_CONCURRENCY, against a raw
// single-row INSERT loop into the same PostgreSQL and raw BullMQ into a no-op worker, in the same run.
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
/**
 * A second figure with this many jobs in hand (COST_LEDGER_CONCURRENCY's maximum): a batch is what arrived during
 * the previous fold, so the jobs in hand bound the batch, and the commit's flush is paid once per batch.
 */
const BATCH_CONCURRENCY = 256;

/** Seconds for one worker at `concurrency` to fold `events` fresh cost events (10 workspaces), rollups checked. */
async function timeFolds(db: Knex, bus: RaptorBus, events: number, concurrency: number): Promise<number> {
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
  const t = performance.now();
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
  const seconds = (performance.now() - t) / 1000;
  const [check] = await db('cost_rollups')
    .whereIn('workspace_id', wsIds)
    .where({ period: 'month' })
    .sum<{ s: string }[]>('spent_usd as s');
  const [truth] = await db('cost_logs').whereIn('workspace_id', wsIds).sum<{ s: string }[]>('cost_usd as s');
  if (check?.s !== truth?.s) throw new Error(`rollups ${check?.s} ≠ cost_logs ${truth?.s}`);
  return seconds;
}

/** Seconds for `events` single-row autocommit INSERTs on one connection (the statement-and-commit floor). */
async function timeRawInserts(db: Knex, events: number): Promise<number> {
  await db.raw(
    'CREATE TEMP TABLE IF NOT EXISTS bench_raw (id uuid, workspace_id uuid, model text, cost numeric(20,10))',
  );
  const conn = await db.client.acquireConnection();
  const ws = [randomUUID(), randomUUID()];
  const t = performance.now();
  try {
    for (let i = 0; i < events; i++)
      await conn.query('INSERT INTO bench_raw VALUES (gen_random_uuid(), $1, $2, $3)', [
        ws[i % 2],
        MODELS[i % 3],
        '0.000001',
      ]);
  } finally {
    await db.client.releaseConnection(conn);
  }
  const seconds = (performance.now() - t) / 1000;
  await db.raw('DROP TABLE bench_raw');
  return seconds;
}

/** Seconds for a no-op BullMQ worker at `concurrency` to take `events` jobs: what BullMQ alone costs. */
async function timeRawBull(events: number, concurrency: number): Promise<number> {
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
  const t = performance.now();
  const rawWorker = new Worker('bench-ledger-raw', async () => void done++, {
    connection: createRedis('worker'),
    prefix: settings.queuePrefix,
    concurrency,
  });
  while (done < events) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t) / 1000;
  await rawWorker.close();
  await rawQueue.obliterate({ force: true }).catch(() => undefined);
  await rawQueue.close();
  return seconds;
}

export async function runLedgerBench(db: Knex, events = 10_000): Promise<string[]> {
  const bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const configured = getSettings().concurrency.costLedger;
  const rate = (s: number) => `${(events / s).toFixed(0)}/s (${s.toFixed(2)} s)`;
  const lines = [`bench/ledger (${events} events per figure, ONE worker, 10 workspaces, 3 models)`];
  try {
    const folds: Array<[number, number]> = [];
    for (const concurrency of [...new Set([configured, BATCH_CONCURRENCY])]) {
      const folded = await timeFolds(db, bus, events, concurrency);
      const bull = await timeRawBull(events, concurrency);
      folds.push([concurrency, folded]);
      lines.push(
        `  concurrency ${concurrency}${concurrency === configured ? ' (configured)' : ''}:`,
        `    folded by one ledger worker:    ${rate(folded)} events (rollups = SUM(cost_logs) checked)`,
        `    raw BullMQ → no-op worker:      ${rate(bull)} jobs; folds at ${(bull / folded).toFixed(2)}× of it`,
      );
    }
    const raw = await timeRawInserts(db, events);
    lines.push(
      `  baseline single-row INSERT loop:  ${rate(raw)} rows (one connection, autocommit, temp table)`,
      `  folds / raw inserts: ${folds.map(([c, f]) => `${(raw / f).toFixed(2)}× at concurrency ${c}`).join(', ')}`,
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
