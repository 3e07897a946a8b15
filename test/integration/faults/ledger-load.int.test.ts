import { randomInt } from 'node:crypto';
import { nanoToDecimal } from '@raptorflow/core/money/money';
import { newUser, newWorkspace } from '../../support/factories';
import { eventually } from '../../support/http';
import { actualRollups, expectedRollups, insertCostRows } from '../../support/ledger';
import { inBatches, serviceEnv, useServices, whileAlive } from '../../support/processes';
import type { CostRowSpec } from '../../support/ledger';

/**
 * 10,000 cost rows over two UTC months, 5 workspaces and 3 models, each published as `cost.recorded`, and 20 %
 * of them published a second time under a new event id (what a relay re-send after a trimmed job looks like),
 * folded by two cost-ledger processes at once: the rollups must equal SUM(cost_logs) exactly, per month, day
 * and model.
 */
const ROWS = 10_000;
const REDELIVERED = 2_000;
const MODELS = ['gemini-3.8-flash', 'gemini-3.1-pro-preview', 'claude-sonnet-5'];
const { stack, services } = useServices();

it('two ledger processes fold 12,000 events of 10,000 rows into exact rollups', async () => {
  const owner = await newUser();
  const workspaces = await Promise.all(Array.from({ length: 5 }, () => newWorkspace(stack.db, owner)));
  const wsIds = workspaces.map((w) => w.id);
  for (const id of wsIds)
    await stack.db('workspace_budgets').insert({ workspace_id: id, monthly_budget_usd: '1000000' });
  const now = Date.now();
  const specs: CostRowSpec[] = Array.from({ length: ROWS }, (_, i) => ({
    workspaceId: wsIds[i % wsIds.length]!,
    model: MODELS[randomInt(MODELS.length)]!,
    // Fractions of a cent down to 1e-9 USD: exactly what floats would drift on.
    costUsd: nanoToDecimal(BigInt(randomInt(1, 5_000_000))),
    // Spread over the last ~45 days: two months, many days.
    at: new Date(now - randomInt(45 * 24 * 3600) * 1000).toISOString(),
    inputTokens: randomInt(1, 5_000),
  }));
  const ids = await insertCostRows(stack.db, specs);
  const rowsOf = new Map(ids.map((id, i) => [id, specs[i]!]));

  const env = serviceEnv({ LEDGER_RECONCILE_INTERVAL_MS: '0', COST_LEDGER_CONCURRENCY: '8' });
  const [a, b] = await Promise.all([services.start('cost-ledger', env), services.start('cost-ledger', env)]);
  const events = [...ids, ...ids.slice(0, REDELIVERED)];
  await inBatches(events, 500, (id) =>
    stack.bus.publish(
      'cost.recorded',
      { cost_log_id: id, model: rowsOf.get(id)!.model!, cost_usd: rowsOf.get(id)!.costUsd },
      { workspaceId: rowsOf.get(id)!.workspaceId },
    ),
  );
  const queue = stack.bus.queue('cost');
  await whileAlive(
    'cost-ledger',
    a!.child,
    whileAlive(
      'cost-ledger',
      b!.child,
      eventually(
        async () => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
          if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) > 0) return false;
          const n = await stack
            .db('cost_rollup_folds')
            .whereIn('workspace_id', wsIds)
            .count<{ n: string }[]>('* as n');
          return Number(n[0]!.n) === ROWS;
        },
        120_000,
        500,
      ),
    ),
  );
  const folds = await stack
    .db('cost_rollup_folds')
    .whereIn('workspace_id', wsIds)
    .count<{ n: string }[]>('* as n');
  expect(Number(folds[0]!.n)).toBe(ROWS);
  const expected = await expectedRollups(stack.db, wsIds);
  expect(expected.filter((r: { period: string }) => r.period === 'month').length).toBeGreaterThanOrEqual(10);
  expect(await actualRollups(stack.db, wsIds)).toEqual(expected);
  const failed = await queue.getJobCounts('failed');
  expect(failed.failed).toBe(0);
}, 180_000);
