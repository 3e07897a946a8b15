import { waitForExit } from '../../scripts/lib/service-process';
import { eventually } from '../support/http';
import { actualRollups, expectedRollups, randomCostRows } from '../support/ledger';
import { inBatches, outputTail, serviceEnv, useServices, whileAlive } from '../support/processes';
import { jobCounts } from '../support/seeding';

/**
 * A cost-ledger process SIGKILLed while it folds 4,000 cost rows (4,400 `cost.recorded` events: 10 % sent a
 * second time under a new event id), then a new one started: the killed process's open fold transactions die
 * with its connections, the jobs it held come back through BullMQ's stalled check, and the rollups end equal
 * to SUM(cost_logs) per month, day and model, with every cost row folded exactly once (a row folded twice
 * would show as one call and its cost too many in its rollups).
 */
const ROWS = 4_000;
const REDELIVERED = 400;
const KILL_AFTER = 400; // folds seen before the SIGKILL
const MODELS = ['gemini-3.8-flash', 'claude-sonnet-5'];
const { stack, services } = useServices();

const ledgerEnv = () =>
  serviceEnv({
    LEDGER_RECONCILE_INTERVAL_MS: '0',
    COST_LEDGER_CONCURRENCY: '8',
    // The killed process's jobs come back after ~10 s instead of up to a minute.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '5000',
  });

async function folded(wsIds: string[]): Promise<number> {
  const [row] = await stack
    .db('cost_rollup_folds')
    .whereIn('workspace_id', wsIds)
    .count<{ n: string }[]>('* as n');
  return Number(row!.n);
}

it('SIGKILL mid-batch, then a new ledger: rollups equal SUM(cost_logs), each cost row folded once', async () => {
  // Over the last ~40 days: this month and the last, many days.
  const {
    wsIds,
    ids,
    specs: spec,
  } = await randomCostRows(stack.db, {
    workspaces: 4,
    rows: ROWS,
    models: MODELS,
    days: 40,
  });
  await inBatches([...ids, ...ids.slice(0, REDELIVERED)], 500, (id) =>
    stack.bus.publish(
      'cost.recorded',
      { cost_log_id: id, model: spec.get(id)!.model!, cost_usd: spec.get(id)!.costUsd },
      { workspaceId: spec.get(id)!.workspaceId },
    ),
  );
  const queue = stack.bus.queue('cost');
  expect((await jobCounts(queue)).wait).toBe(ROWS + REDELIVERED);

  const first = await services.spawn('cost-ledger', ledgerEnv());
  await whileAlive(
    'first cost-ledger',
    first.child,
    eventually(async () => (await folded(wsIds)) >= KILL_AFTER, 60_000, 10),
  );
  first.child.kill('SIGKILL');
  await waitForExit(first.child, 5_000);
  expect(first.child.signalCode).toBe('SIGKILL');

  // Killed while folding: some rows folded, not all, and jobs left active by a process that is gone.
  const atKill = await jobCounts(queue);
  const foldedAtKill = await folded(wsIds);
  expect(foldedAtKill).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(foldedAtKill).toBeLessThan(ROWS);
  expect(atKill.active).toBeGreaterThan(0);

  const second = await services.spawn('cost-ledger', ledgerEnv());
  await whileAlive(
    'second cost-ledger',
    second.child,
    eventually(
      async () => {
        const c = await jobCounts(queue);
        return c.wait + c.active + c.delayed === 0 && (await folded(wsIds)) === ROWS;
      },
      120_000,
      250,
    ),
  ).catch(async (err: Error) => {
    throw new Error(
      `${err.message}: ${await folded(wsIds)} of ${ROWS} folded, jobs ${JSON.stringify(await jobCounts(queue))}\n` +
        outputTail(second.child),
    );
  });

  expect(await folded(wsIds)).toBe(ROWS);
  const expected = await expectedRollups(stack.db, wsIds);
  expect(expected.filter((r: { period: string }) => r.period === 'month').length).toBeGreaterThanOrEqual(8);
  expect(await actualRollups(stack.db, wsIds)).toEqual(expected);
  // The month rollups count every row once: ROWS calls in all, not one more.
  const [calls] = await stack
    .db('cost_rollups')
    .whereIn('workspace_id', wsIds)
    .where({ period: 'month' })
    .sum<{ n: string }[]>('calls as n');
  expect(Number(calls!.n)).toBe(ROWS);
  expect((await jobCounts(queue)).failed).toBe(0);
}, 240_000);
