import { getLogger } from '@raptorflow/core/logging/logger';
import { spawnSync } from 'node:child_process';
import type { Worker } from 'bullmq';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import { createCostLedgerWorker } from '../../services/cost-ledger/src/cost-ledger.worker';
import { LedgerReconciler } from '../../services/cost-ledger/src/ledger-reconciler.service';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { getSettings } from '@raptorflow/core/config/settings';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import {
  actualRollups,
  budgetAlerts,
  budgetLedger,
  expectedRollups,
  insertCostRows,
} from '../support/ledger';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';

/** Reconciliation on real PostgreSQL: drift repaired and reported, late events harmless, reservations reclaimed. */
const stack = openStack();
const workers: Worker[] = [];
afterAll(() => stack.close(workers));

const alerts = budgetAlerts(stack);
const ledger = new CostLedgerService({ db: stack.db, alerts, logger: getLogger() });
const reconciler = new LedgerReconciler({
  db: stack.db,
  audit: new AuditLogService({ db: stack.db }),
  alerts,
  budgets: budgetLedger(stack.db),
  logger: getLogger(),
});
const thisMonth = () => new Date().toISOString().slice(0, 7);

async function foldedWorkspace() {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const ids = await insertCostRows(stack.db, [
    { workspaceId: ws.id, costUsd: '0.0000001234', model: 'gemini-3.8-flash' },
    { workspaceId: ws.id, costUsd: '1.5', model: 'gemini-3.8-flash' },
    { workspaceId: ws.id, costUsd: '2.25', model: 'claude-sonnet-5' },
  ]);
  for (const id of ids) await ledger.fold(id);
  return { ws, ids };
}

it('repairs tampered, missing and bogus rollup rows, says so, and then finds nothing', async () => {
  const { ws } = await foldedWorkspace();
  const clean = await expectedRollups(stack.db, [ws.id]);
  expect(await actualRollups(stack.db, [ws.id])).toEqual(clean);
  const rollups = stack.db('cost_rollups').where({ workspace_id: ws.id });
  await rollups.clone().where({ period: 'month', model: 'gemini-3.8-flash' }).update({ spent_usd: '99' });
  await rollups.clone().where({ period: 'day', model: 'claude-sonnet-5' }).del();
  await stack.db('cost_rollups').insert({
    workspace_id: ws.id,
    period: 'day',
    period_start: `${thisMonth()}-01`,
    model: 'ghost-model',
    calls: 3,
    spent_usd: '5',
  });
  const before = (await getMetrics().ledgerCorrectionsTotal.get()).values.reduce((s, v) => s + v.value, 0);

  const r = await reconciler.reconcile({ month: thisMonth() });
  const mine = r.corrections.filter((c) => c.workspace_id === ws.id);
  expect(
    mine.map((c) => [c.period, c.model, c.before?.spent_usd ?? null, c.after?.spent_usd ?? null]).sort(),
  ).toEqual(
    [
      ['budget_usage', null, null, '3.7500001234'],
      ['day', 'claude-sonnet-5', null, '2.2500000000'],
      ['day', 'ghost-model', '5.0000000000', null],
      ['month', 'gemini-3.8-flash', '99.0000000000', '1.5000001234'],
    ].sort(),
  );
  expect(await actualRollups(stack.db, [ws.id])).toEqual(clean);
  const audits = await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'ledger.corrected' });
  expect(audits).toHaveLength(4);
  const after = (await getMetrics().ledgerCorrectionsTotal.get()).values.reduce((s, v) => s + v.value, 0);
  expect(after - before).toBeGreaterThanOrEqual(4);

  const again = await reconciler.reconcile({ month: thisMonth() });
  expect(again.corrections.filter((c) => c.workspace_id === ws.id)).toHaveLength(0);
});

it('counts cost rows whose events have not arrived yet, and their late events fold nothing twice', async () => {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const ids = await insertCostRows(stack.db, [
    { workspaceId: ws.id, costUsd: '0.5' },
    { workspaceId: ws.id, costUsd: '0.25' },
  ]);
  await reconciler.reconcile({ month: thisMonth() });
  expect(await actualRollups(stack.db, [ws.id])).toEqual(await expectedRollups(stack.db, [ws.id]));
  for (const id of ids) expect((await ledger.fold(id)).folded).toBe(false);
  expect(await actualRollups(stack.db, [ws.id])).toEqual(await expectedRollups(stack.db, [ws.id]));
});

it('reclaims expired budget reservations', async () => {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  const held = budgetLedger(stack.db, { reservationTtlMs: 1_000 });
  await held.reserve({ workspaceId: ws.id, amountNano: 5_000_000n, model: 'gemini-3.8-flash' });
  await stack
    .db('budget_reservations')
    .where({ workspace_id: ws.id })
    .update({ expires_at: stack.db.raw(`now() - interval '1 second'`) });
  const r = await reconciler.reconcile({ month: thisMonth() });
  expect(r.reclaimedReservations).toBeGreaterThanOrEqual(1);
  expect((await stack.db('budget_reservations').where({ workspace_id: ws.id }).first()).status).toBe(
    'expired',
  );
  expect((await stack.db('budget_usage').where({ workspace_id: ws.id }).first()).reserved_usd).toBe(
    '0.0000000000',
  );
});

it('runs as a job on the cost queue (what the hourly scheduler enqueues)', async () => {
  const { ws } = await foldedWorkspace();
  await stack.db('cost_rollups').where({ workspace_id: ws.id, period: 'month' }).update({ calls: 42 });
  workers.push(createCostLedgerWorker(ledger, { ...workerOptions(stack, 'costLedger'), reconciler }));
  await stack.bus.publish('ledger.reconcile.requested', { month: thisMonth() }, { workspaceId: null });
  await eventually(async () => {
    const rows = await stack.db('cost_rollups').where({ workspace_id: ws.id, period: 'month', calls: 42 });
    return rows.length === 0;
  }, 10_000);
  expect(await actualRollups(stack.db, [ws.id])).toEqual(await expectedRollups(stack.db, [ws.id]));
});

it('npm run ledger -- reconcile --month refuses a bad month and reports a good one', () => {
  const env = {
    ...process.env,
    DATABASE_URL: getSettings().databaseUrl,
    QUEUE_PREFIX: stack.prefix,
    LOG_LEVEL: 'silent',
  };
  const bad = spawnSync('npx', ['tsx', 'scripts/ledger.ts', 'reconcile', '--month', '2026-13'], {
    env,
    encoding: 'utf8',
  });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--month must be YYYY-MM');
  const good = spawnSync('npx', ['tsx', 'scripts/ledger.ts', 'reconcile', '--month', thisMonth(), '--json'], {
    env,
    encoding: 'utf8',
  });
  expect(good.status).toBe(0);
  expect(JSON.parse(good.stdout)).toMatchObject({ months: [thisMonth()], corrections: expect.any(Array) });
}, 60_000);
