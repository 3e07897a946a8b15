import { getLogger } from '@raptorflow/core/logging/logger';
import { BudgetService } from '../../services/gateway/src/budgets/budget.service';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import { createDatabase } from '@raptorflow/core/db/database';
import { newUser, newWorkspace } from '../support/factories';
import { actualRollups, budgetAlerts, expectedRollups, insertCostRows } from '../support/ledger';
import { openStack } from '../support/stack';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { getSettings } from '@raptorflow/core/config/settings';

/** Budget thresholds on real PostgreSQL, with many folds racing (the ledger service called directly). */
const stack = openStack();
// Twenty connections so twenty folds really run at once.
const wide = createDatabase({ url: getSettings().databaseUrl, poolMax: 20 });
afterAll(async () => {
  await wide.destroy();
  await stack.close();
});

const ledger = () =>
  new CostLedgerService({
    db: wide,
    alerts: budgetAlerts(stack, wide),
    logger: getLogger(),
  });

async function workspaceWithBudget(budget: string) {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: budget });
  return { owner, ws };
}

const firedAlerts = (wsId: string) =>
  stack.db('budget_alerts').where({ workspace_id: wsId }).orderBy(['month', 'threshold_percent']);

it('each threshold fires exactly once when 100 folds race past all three', async () => {
  const { ws } = await workspaceWithBudget('10');
  const ids = await insertCostRows(
    stack.db,
    Array.from({ length: 100 }, () => ({ workspaceId: ws.id, costUsd: '0.15' })),
  );
  const services = [ledger(), ledger(), ledger()];
  await Promise.all(ids.map((id, i) => services[i % 3]!.fold(id)));
  // And every event delivered a second time changes nothing.
  await Promise.all(ids.map((id, i) => services[(i + 1) % 3]!.fold(id)));

  const alerts = await firedAlerts(ws.id);
  expect(alerts.map((a) => a.threshold_percent)).toEqual([50, 80, 100]);
  // Each fired on the fold that crossed it: the spend it records is within one call of the threshold.
  for (const a of alerts) {
    const threshold = (a.threshold_percent / 100) * 10;
    expect(Number(a.spent_usd)).toBeGreaterThanOrEqual(threshold);
    expect(Number(a.spent_usd)).toBeLessThan(threshold + 0.15 + 1e-9);
  }
  const events = await stack
    .db('event_outbox')
    .where({ workspace_id: ws.id, event_type: 'budget.alert.fired' });
  expect(events.map((e) => e.envelope.payload.threshold_percent).sort()).toEqual([100, 50, 80]);
  expect(
    await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'budget.alert_fired' }),
  ).toHaveLength(3);
  expect(await actualRollups(stack.db, [ws.id])).toEqual(await expectedRollups(stack.db, [ws.id]));
}, 30_000);

it('a budget raised above the spend re-arms the thresholds above it', async () => {
  const { owner, ws } = await workspaceWithBudget('10');
  const first = await insertCostRows(
    stack.db,
    Array.from({ length: 6 }, () => ({ workspaceId: ws.id, costUsd: '1' })),
  );
  for (const id of first) await ledger().fold(id);
  expect((await firedAlerts(ws.id)).map((a) => a.threshold_percent)).toEqual([50]);

  const budgets = new BudgetService({
    db: stack.db,
    audit: new AuditLogService({ db: stack.db }),
    alerts: budgetAlerts(stack),
    defaultBudgetUsd: getSettings().monthlyWorkspaceBudgetUsd,
  });
  await budgets.set(ws.id, owner.id, 7); // 6/7 = 86 %: 50 and 80 reached, nothing to re-arm, 80 fires on the next fold
  await budgets.set(ws.id, owner.id, 20); // 6/20 = 30 %: the 50 % alert is forgotten
  expect(await firedAlerts(ws.id)).toHaveLength(0);
  const audit = await stack
    .db('audit_logs')
    .where({ workspace_id: ws.id, action: 'budget.updated' })
    .orderBy('created_at');
  expect(audit.at(-1).output.rearmed_alerts).toEqual([50]);

  const more = await insertCostRows(
    stack.db,
    Array.from({ length: 5 }, () => ({ workspaceId: ws.id, costUsd: '1' })),
  );
  for (const id of more) await ledger().fold(id);
  expect((await firedAlerts(ws.id)).map((a) => [a.threshold_percent, a.spent_usd])).toEqual([
    [50, '10.0000000000'],
  ]);
});

it('a new month starts clean: last month’s alerts do not hold this month’s back', async () => {
  const { ws } = await workspaceWithBudget('10');
  const lastMonth = new Date();
  lastMonth.setUTCDate(1);
  lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
  const old = await insertCostRows(stack.db, [
    { workspaceId: ws.id, costUsd: '9', at: lastMonth.toISOString() },
  ]);
  const now = await insertCostRows(stack.db, [{ workspaceId: ws.id, costUsd: '6' }]);
  await ledger().fold(old[0]!);
  await ledger().fold(now[0]!);
  const alerts = await firedAlerts(ws.id);
  const byMonth = alerts.map((a) => [new Date(a.month).getUTCMonth(), a.threshold_percent]);
  expect(byMonth).toEqual([
    [lastMonth.getUTCMonth(), 50],
    [lastMonth.getUTCMonth(), 80],
    [new Date().getUTCMonth(), 50],
  ]);
});
