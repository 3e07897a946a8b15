import { randomUUID } from 'node:crypto';
import { BudgetExceededError } from '@raptorflow/core/errors/app-error';
import { nanoToDecimal } from '@raptorflow/core/money/money';
import { BudgetRepository } from '@raptorflow/data/repositories/budget.repository';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import type { Reservation } from '@raptorflow/llm/budget-ledger.service';
import { newUser, newWorkspace } from '../support/factories';
import { openStack } from '../support/stack';

/**
 * The group commit of reservations: concurrent reserve() calls of one workspace are admitted by one
 * statement in arrival order. Whatever the batching, the reserved total never passes the budget, each
 * refusal is the same BudgetExceededError as a lone call's, and one bad request fails only itself.
 */
const stack = openStack();
afterAll(() => stack.close());

/** 1 USD in nano-USD: budgets and amounts below are whole multiples of it, so expectations are exact. */
const UNIT = 1_000_000_000n;

function newLedger(): BudgetLedgerService {
  return new BudgetLedgerService({ db: stack.db, defaultBudgetUsd: 50, reservationTtlMs: 60_000 });
}

async function fundedWorkspace(budgetUnits: bigint): Promise<string> {
  const ws = await newWorkspace(stack.db, await newUser());
  await stack
    .db('workspace_budgets')
    .insert({ workspace_id: ws.id, monthly_budget_usd: nanoToDecimal(budgetUnits * UNIT) });
  return ws.id;
}

type Outcome = Reservation | Error;

function reserveAll(ledger: BudgetLedgerService, workspaceId: string, units: bigint[], runId?: string[]) {
  // Started in the same tick: the first runs alone, the rest queue behind it and go as one batch.
  return Promise.all(
    units.map((u, i) =>
      ledger
        .reserve({ workspaceId, amountNano: u * UNIT, model: 'm', agentRunId: runId?.[i] ?? null })
        .catch((e: unknown) => e as Error),
    ),
  ) as Promise<Outcome[]>;
}

async function activeReservations(workspaceId: string): Promise<{ count: number; sum: string }> {
  const [row] = await stack
    .db('budget_reservations')
    .where({ workspace_id: workspaceId, status: 'active' })
    .select<Array<{ count: number; sum: string | null }>>(
      stack.db.raw('count(*)::int AS count'),
      stack.db.raw('sum(amount_usd)::text AS sum'),
    );
  return { count: row!.count, sum: row!.sum ?? '0' };
}

describe('batched reservations', () => {
  it('admits exactly the requests that fit, the total never passes the budget, refusals are 402s', async () => {
    const ws = await fundedWorkspace(23n);
    const ledger = newLedger();
    const outcomes = await reserveAll(
      ledger,
      ws,
      Array.from({ length: 80 }, () => 1n),
    );
    const admitted = outcomes.filter((o): o is Reservation => !(o instanceof Error));
    const refused = outcomes.filter((o) => o instanceof Error);
    expect(admitted).toHaveLength(23);
    expect(refused).toHaveLength(57);
    for (const e of refused) expect(e).toBeInstanceOf(BudgetExceededError);
    expect((refused[0] as BudgetExceededError).details).toEqual({
      budget_usd: 23,
      spent_usd: 0,
      reserved_usd: 23,
      requested_usd: 1,
    });
    expect(new Set(admitted.map((r) => r.id)).size).toBe(23);
    expect(await activeReservations(ws)).toEqual({ count: 23, sum: '23.0000000000' });
    const state = await ledger.state(ws);
    expect(state.reservedNano).toBe(23n * UNIT);
    expect(state.spentNano + state.reservedNano).toBeLessThanOrEqual(state.budgetNano);
  });

  it('admits in arrival order: a refused request takes nothing, so a smaller one after it still fits', async () => {
    const ws = await fundedWorkspace(10n);
    const outcomes = await reserveAll(newLedger(), ws, [1n, 8n, 5n, 1n, 1n]);
    expect(outcomes.map((o) => (o instanceof Error ? o.constructor.name : 'ok'))).toEqual([
      'ok',
      'ok',
      'BudgetExceededError',
      'ok',
      'BudgetExceededError',
    ]);
    expect(await activeReservations(ws)).toEqual({ count: 3, sum: '10.0000000000' });
  });

  it('many concurrent callers and several ledgers (processes) never reserve past the budget', async () => {
    const ws = await fundedWorkspace(100n);
    const ledgers = [newLedger(), newLedger(), newLedger()];
    const units = Array.from({ length: 60 }, (_, i) => BigInt(1 + (i % 7)));
    const outcomes = (await Promise.all(ledgers.map((l) => reserveAll(l, ws, units)))).flat();
    const admitted = outcomes.filter((o): o is Reservation => !(o instanceof Error));
    for (const o of outcomes) if (o instanceof Error) expect(o).toBeInstanceOf(BudgetExceededError);
    const total = admitted.reduce((a, r) => a + r.amountNano, 0n);
    expect(total).toBeLessThanOrEqual(100n * UNIT);
    // Room only shrinks, so once a request of at most 7 is refused, less than 7 stays unreserved.
    expect(total).toBeGreaterThan(93n * UNIT);
    expect((await newLedger().state(ws)).reservedNano).toBe(total);
    const active = await activeReservations(ws);
    expect(active.count).toBe(admitted.length);
    expect(BigInt(active.sum.replace('.', '')) / 10n).toBe(total);
  });

  it('gives back expired reservations and then admits the batch that was refused', async () => {
    const ws = await fundedWorkspace(5n);
    const ledger = newLedger();
    await reserveAll(ledger, ws, [5n]);
    // Its holder died: the reservation is past its expiry but still holds the whole budget.
    await stack
      .db('budget_reservations')
      .where({ workspace_id: ws })
      .update({ expires_at: stack.db.raw(`now() - interval '1 minute'`) });
    // The first refused caller reclaims and retries; one refused while that reclaim was in flight finds
    // nothing left to reclaim and is refused (as concurrent lone calls always were), so a second round
    // takes what is left: together exactly the budget.
    const first = await reserveAll(ledger, ws, [1n, 1n, 1n, 1n, 1n, 1n]);
    const second = await reserveAll(ledger, ws, [1n, 1n, 1n, 1n, 1n, 1n]);
    const outcomes = [...first, ...second];
    expect(first.some((o) => !(o instanceof Error))).toBe(true);
    expect(outcomes.filter((o) => !(o instanceof Error))).toHaveLength(5);
    expect(outcomes.filter((o) => o instanceof BudgetExceededError)).toHaveLength(7);
    expect(await activeReservations(ws)).toEqual({ count: 5, sum: '5.0000000000' });
  });

  it('a request that makes the batch statement fail fails alone; its batch neighbours are admitted', async () => {
    const ws = await fundedWorkspace(10n);
    const other = await fundedWorkspace(10n);
    const ledger = newLedger();
    const missingRun = randomUUID();
    const [mine, theirs] = await Promise.all([
      reserveAll(ledger, ws, [1n, 1n, 1n, 1n], [undefined, undefined, missingRun, undefined] as string[]),
      reserveAll(ledger, other, [1n, 1n, 1n]),
    ]);
    expect(mine.map((o) => o instanceof Error)).toEqual([false, false, true, false]);
    expect(mine[2]).not.toBeInstanceOf(BudgetExceededError);
    expect(String((mine[2] as Error).message)).toMatch(/foreign key/);
    expect(theirs.every((o) => !(o instanceof Error))).toBe(true);
    expect(await activeReservations(ws)).toEqual({ count: 3, sum: '3.0000000000' });
    expect((await ledger.state(ws)).reservedNano).toBe(3n * UNIT);
  });

  it('settles batched reservations exactly: nothing stays reserved and spend is the sum of costs', async () => {
    const ws = await fundedWorkspace(50n);
    const ledger = newLedger();
    const admitted = (await reserveAll(
      ledger,
      ws,
      Array.from({ length: 20 }, () => 2n),
    )) as Reservation[];
    await Promise.all(
      admitted.map((r, i) => stack.db.transaction((trx) => ledger.settle(r, BigInt(i) * 1_000n, trx))),
    );
    const state = await ledger.state(ws);
    expect(state.reservedNano).toBe(0n);
    expect(state.spentNano).toBe(190n * 1_000n);
  });

  it('the batch statement itself admits in order, creating the month row when it is the first', async () => {
    const ws = await fundedWorkspace(4n);
    const repo = new BudgetRepository(stack.db);
    const row = (units: bigint) => ({
      id: randomUUID(),
      amount: nanoToDecimal(units * UNIT),
      model: 'm',
      agentRunId: null,
      correlationId: 'c',
    });
    const first = await repo.reserveBatch(ws, '50', 60_000, [row(3n), row(2n), row(1n)]);
    expect(first).toEqual({ month: expect.any(String), admitted: [true, false, true], applied: true });
    const second = await repo.reserveBatch(ws, '50', 60_000, [row(1n), row(1n)]);
    expect(second.admitted).toEqual([false, false]);
    expect(second.applied).toBe(true);
    expect(await activeReservations(ws)).toEqual({ count: 2, sum: '4.0000000000' });
  });

  it('settles a batch holding a reservation of the previous month: it gives back there, spends in this month', async () => {
    const ws = await fundedWorkspace(50n);
    const ledger = newLedger();
    const [now, before] = (await reserveAll(ledger, ws, [2n, 3n])) as Reservation[];
    // A call that started before midnight UTC at the month's end: its reservation and amount are last month's.
    const { prev } = await new BudgetRepository(stack.db).currentAndPreviousMonth();
    await stack.db('budget_reservations').where({ id: before!.id }).update({ month: prev });
    await stack.db('budget_usage').where({ workspace_id: ws }).decrement('reserved_usd', 3);
    await stack.db('budget_usage').insert({ workspace_id: ws, month: prev, reserved_usd: 3 });
    before!.month = prev;
    await stack.db.transaction((trx) =>
      ledger.finishMany(trx, ws, [
        { reservation: now!, status: 'settled', actualNano: 1_000n },
        { reservation: before!, status: 'settled', actualNano: 2_000n },
      ]),
    );
    const cur = await ledger.state(ws);
    expect({ spent: cur.spentNano, reserved: cur.reservedNano }).toEqual({ spent: 3_000n, reserved: 0n });
    const old = await ledger.state(ws, prev);
    expect({ spent: old.spentNano, reserved: old.reservedNano }).toEqual({ spent: 0n, reserved: 0n });
    // Settling again counts nothing twice.
    await stack.db.transaction((trx) =>
      ledger.finishMany(trx, ws, [{ reservation: now!, status: 'settled', actualNano: 1_000n }]),
    );
    expect((await ledger.state(ws)).spentNano).toBe(3_000n);
  });
});
