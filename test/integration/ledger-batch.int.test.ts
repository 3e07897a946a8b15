import { getLogger } from '@raptorflow/core/logging/logger';
import { createDatabase } from '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';
import { lockWorkspaceMonth } from '@raptorflow/data/repositories/budget-alert.repository';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import type { FoldResult } from '../../services/cost-ledger/src/cost-ledger.service';
import { newUser, newWorkspace } from '../support/factories';
import { actualRollups, budgetAlerts, expectedRollups, insertCostRows } from '../support/ledger';
import { openStack } from '../support/stack';

/**
 * The group-committed fold on real PostgreSQL: events submitted together fold in one transaction, and a batch
 * behaves as its events folded one by one — once each, thresholds crossed by the event that crossed them.
 */
const stack = openStack();
// Twenty connections so several services' batches really run at once.
const wide = createDatabase({ url: getSettings().databaseUrl, poolMax: 20 });
afterAll(async () => {
  await wide.destroy();
  await stack.close();
});

const ledger = (o: { maxInFlight?: number; logger?: ReturnType<typeof getLogger> } = {}) =>
  new CostLedgerService({
    db: wide,
    alerts: budgetAlerts(stack, wide),
    logger: o.logger ?? getLogger(),
    ...o,
  });

async function workspaceWithBudget(budget: string) {
  const ws = await newWorkspace(stack.db, await newUser());
  await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: budget });
  return ws;
}

const firedAlerts = (wsId: string) =>
  stack.db('budget_alerts').where({ workspace_id: wsId }).orderBy(['month', 'threshold_percent']);

const foldedCount = async (ids: string[]) =>
  Number(
    (await stack.db('cost_rollup_folds').whereIn('cost_log_id', ids).count<{ n: string }[]>('* as n'))[0]!.n,
  );

it('an event submitted several times in one batch, and again in later batches, folds once', async () => {
  const ws = [await workspaceWithBudget('1000'), await workspaceWithBudget('1000')];
  const ids = await insertCostRows(
    stack.db,
    Array.from({ length: 60 }, (_, i) => ({
      workspaceId: ws[i % 2]!.id,
      model: i % 3 ? 'gemini-3.8-flash' : 'claude-sonnet-5',
      costUsd: `0.00000${(i % 9) + 1}123`,
    })),
  );
  const service = ledger();
  // Same tick: one batch holding every id three times.
  const first = await Promise.all([...ids, ...ids, ...ids].map((id) => service.fold(id)));
  expect(first.filter((r) => r.folded)).toHaveLength(ids.length);
  expect(first.slice(0, ids.length).every((r) => r.folded)).toBe(true); // the first occurrence folds
  // Across batches and services: nothing more.
  const other = ledger({ maxInFlight: 3 });
  const again = await Promise.all(ids.flatMap((id) => [service.fold(id), other.fold(id)]));
  expect(again.some((r) => r.folded)).toBe(false);
  expect(await foldedCount(ids)).toBe(ids.length);
  const wsIds = ws.map((w) => w.id);
  expect(await actualRollups(stack.db, wsIds)).toEqual(await expectedRollups(stack.db, wsIds));
});

it('a batch crossing thresholds fires each on the event whose running total crossed it', async () => {
  const ws = await workspaceWithBudget('10');
  const ids = await insertCostRows(
    stack.db,
    Array.from({ length: 12 }, () => ({ workspaceId: ws.id, costUsd: '1' })),
  );
  const service = ledger();
  const folded = await Promise.all(ids.map((id) => service.fold(id)));
  expect((await firedAlerts(ws.id)).map((a) => [a.threshold_percent, a.spent_usd])).toEqual([
    [50, '5.0000000000'],
    [80, '8.0000000000'],
    [100, '10.0000000000'],
  ]);
  // Each alert is handed back with the fold of the event that crossed it: the 5th, 8th and 10th.
  const crossedBy = folded.flatMap((r, i) => r.alerts.map((a) => [i + 1, a.threshold_percent]));
  expect(crossedBy).toEqual([
    [5, 50],
    [8, 80],
    [10, 100],
  ]);
});

it('concurrent batches of several ledgers fire each threshold exactly once, within one call of it', async () => {
  const ws = await workspaceWithBudget('10');
  const ids = await insertCostRows(
    stack.db,
    Array.from({ length: 300 }, () => ({ workspaceId: ws.id, costUsd: '0.05' })),
  );
  const services = [ledger({ maxInFlight: 3 }), ledger({ maxInFlight: 3 }), ledger({ maxInFlight: 3 })];
  // Submitted in waves so batches of different services overlap rather than all going in one.
  const results: FoldResult[] = [];
  for (let i = 0; i < ids.length; i += 30)
    results.push(
      ...(await Promise.all(
        ids.slice(i, i + 60).flatMap((id, j) => [services[j % 3]!.fold(id), services[(j + 1) % 3]!.fold(id)]),
      )),
    );
  const alerts = await firedAlerts(ws.id);
  expect(alerts.map((a) => a.threshold_percent)).toEqual([50, 80, 100]);
  for (const a of alerts) {
    const threshold = (a.threshold_percent / 100) * 10;
    expect(Number(a.spent_usd)).toBeGreaterThanOrEqual(threshold);
    expect(Number(a.spent_usd)).toBeLessThan(threshold + 0.05 + 1e-9);
  }
  expect(results.flatMap((r) => r.alerts.map((a) => a.threshold_percent)).sort()).toEqual([100, 50, 80]);
  expect(
    await stack.db('event_outbox').where({ workspace_id: ws.id, event_type: 'budget.alert.fired' }),
  ).toHaveLength(3);
  expect(
    await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'budget.alert_fired' }),
  ).toHaveLength(3);
  expect(await foldedCount(ids)).toBe(ids.length);
  expect(await actualRollups(stack.db, [ws.id])).toEqual(await expectedRollups(stack.db, [ws.id]));
}, 30_000);

it('a batch with one row that cannot fold falls back to one by one: the others fold once, it alone fails', async () => {
  const good = await workspaceWithBudget('1000');
  const huge = await workspaceWithBudget('1000');
  // The largest cost a row holds; a second one of the same model and day overflows the rollups' numeric(20,10).
  const [big] = await insertCostRows(stack.db, [{ workspaceId: huge.id, costUsd: '9999999999' }]);
  try {
    await foldsOneByOneAroundABadRow(good.id, huge.id, big!);
  } finally {
    // The reconciler of a later test on this database sums every workspace's rows: leave none it cannot sum.
    await stack.db('cost_rollups').where({ workspace_id: huge.id }).del();
    await stack.db('cost_logs').where({ workspace_id: huge.id }).del();
  }
});

async function foldsOneByOneAroundABadRow(goodId: string, hugeId: string, big: string): Promise<void> {
  await ledger().fold(big);
  const [overflow] = await insertCostRows(stack.db, [{ workspaceId: hugeId, costUsd: '1' }]);
  const ids = await insertCostRows(
    stack.db,
    Array.from({ length: 20 }, (_, i) => ({ workspaceId: goodId, costUsd: `0.${i + 1}` })),
  );
  const logger = getLogger();
  const warn = jest.spyOn(logger, 'warn');
  const service = ledger({ logger });
  const batch = [...ids.slice(0, 10), overflow!, ...ids.slice(10)].map((id) =>
    service.fold(id).then(
      (r) => r.folded,
      (e: Error) => e.message,
    ),
  );
  const outcomes = await Promise.all(batch);
  expect(warn).toHaveBeenCalledWith(expect.anything(), 'fold batch failed; folding its events one by one');
  warn.mockRestore();
  expect(outcomes[10]).toMatch(/numeric field overflow/);
  expect(outcomes.filter((o) => o === true)).toHaveLength(20);
  expect(await foldedCount(ids)).toBe(20);
  expect(await foldedCount([overflow!])).toBe(0);
  // Redelivered, the good ones fold nothing more; the bad one still fails on its own.
  const again = await Promise.all([...ids, overflow!].map((id) => service.fold(id).catch(() => 'failed')));
  expect(again.slice(0, 20).every((r) => typeof r === 'object' && !r.folded)).toBe(true);
  expect(again[20]).toBe('failed');
  expect(await actualRollups(stack.db, [goodId])).toEqual(await expectedRollups(stack.db, [goodId]));
}

it('a batch takes the same workspace-month lock as a budget change: it waits for it, then sees the new budget', async () => {
  const ws = await workspaceWithBudget('1000');
  const ids = await insertCostRows(stack.db, [
    { workspaceId: ws.id, costUsd: '6' },
    { workspaceId: ws.id, costUsd: '1' },
  ]);
  const { rows } = await stack.db.raw(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-01') AS month`);
  const month: string = rows[0].month;
  const change = await stack.db.transaction();
  await lockWorkspaceMonth(change, ws.id, month);
  await change('workspace_budgets').where({ workspace_id: ws.id }).update({ monthly_budget_usd: '10' });
  const service = ledger();
  const fold = Promise.all(ids.map((id) => service.fold(id)));
  // Observable: a backend of this database waits on an advisory lock.
  for (;;) {
    const { rows: waiting } = await stack.db.raw(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    );
    if (waiting[0].n > 0) break;
    await new Promise((r) => setImmediate(r));
  }
  await change.commit();
  await fold;
  // Checked against the budget committed before the lock was released: 7 of 10 is past 50 %.
  expect((await firedAlerts(ws.id)).map((a) => [a.threshold_percent, a.spent_usd])).toEqual([
    [50, '6.0000000000'],
  ]);
});
