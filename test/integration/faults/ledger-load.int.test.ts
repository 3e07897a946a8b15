import { eventually } from '../../support/http';
import { actualRollups, expectedRollups, randomCostRows } from '../../support/ledger';
import { inBatches, serviceEnv, useServices, whileAlive } from '../../support/processes';

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
  // Over the last ~45 days: two months, many days.
  const {
    wsIds,
    ids,
    specs: rowsOf,
  } = await randomCostRows(stack.db, {
    workspaces: 5,
    rows: ROWS,
    models: MODELS,
    days: 45,
  });

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
