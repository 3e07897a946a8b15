import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { BudgetRepository } from '@raptorflow/data/repositories/budget.repository';
import { BudgetExceededError } from '@raptorflow/core/errors/app-error';
import {
  budgetUsdToDecimal,
  decimalToNano,
  nanoToDecimal,
  nanoToNumber,
  ratioOf,
} from '@raptorflow/core/money/money';
import { KeyedGroupCommit, failed, succeeded } from '@raptorflow/core/batching/group-commit';
import type { ItemOutcome } from '@raptorflow/core/batching/group-commit';

export interface Reservation {
  id: string;
  workspaceId: string;
  month: string;
  amountNano: bigint;
}

export interface ReserveRequest {
  workspaceId: string;
  amountNano: bigint;
  model: string;
  agentRunId?: string | null;
  correlationId?: string | null;
}

export interface BudgetState {
  month: string;
  budgetNano: bigint;
  spentNano: bigint;
  reservedNano: bigint;
}

export interface BudgetLedgerOptions {
  db: Knex;
  /** MONTHLY_WORKSPACE_BUDGET_USD: the budget of a workspace that set none. */
  defaultBudgetUsd: number;
  /** A reservation outliving this is its holder's death: it is reclaimed, never left blocking the budget. */
  reservationTtlMs: number;
  /** Off only to measure its effect (bench/dispatch): every reservation then runs its own statement. */
  groupCommit?: boolean;
}

/** Requests of one workspace per reservation statement at most (the arrays travel as statement parameters). */
const MAX_RESERVE_BATCH = 256;
/** A batch finds its month row missing and then created by another statement: rare, and settled on retry. */
const MAX_BATCH_ATTEMPTS = 3;

/**
 * Budget admission with PostgreSQL as the only source of truth (SPEC §10). A reservation is ONE statement: a
 * conditional upsert of the workspace's `budget_usage` row that only succeeds while spent + reserved + the
 * new amount stays within budget. The row lock serialises concurrent callers, so no interleaving can admit
 * past the budget, and no Redis state exists whose loss could forget spend.
 *
 * Concurrent reservations of one workspace in this process are group-committed: while one statement is in
 * flight the others queue, and the next statement admits all of them in arrival order under the same lock
 * and the same check (see the budget repository's RESERVE_BATCH_STATEMENT), so the row lock is taken once
 * per batch instead of once per call. A caller alone still runs the one-request statement at once.
 */
export class BudgetLedgerService {
  private readonly db: Knex;
  private readonly budgets: BudgetRepository;
  private readonly defaultBudget: string;
  readonly reservationTtlMs: number;
  private readonly batcher: KeyedGroupCommit<ReserveRequest, Reservation | undefined>;
  private readonly groupCommit: boolean;

  constructor(opts: BudgetLedgerOptions) {
    this.db = opts.db;
    this.budgets = new BudgetRepository(this.db);
    this.defaultBudget = budgetUsdToDecimal(opts.defaultBudgetUsd);
    this.reservationTtlMs = opts.reservationTtlMs;
    this.groupCommit = opts.groupCommit ?? true;
    // One statement in flight per workspace (they all wait on its row lock); a lone caller is sent at once.
    this.batcher = new KeyedGroupCommit({
      run: (_ws, reqs) => this.reserveBatch(reqs),
      maxBatch: MAX_RESERVE_BATCH,
      maxInFlight: 1,
      start: 'at-once',
    });
  }

  /** Reserves `amountNano` or throws BudgetExceededError (nothing is written then). */
  async reserve(req: ReserveRequest): Promise<Reservation> {
    const first = await this.tryReserve(req);
    if (first) return first;
    // Before refusing, give back what dead holders still hold: a leaked reservation must never cause a 402.
    if ((await this.reclaimExpired(req.workspaceId)) > 0) {
      const second = await this.tryReserve(req);
      if (second) return second;
    }
    const state = await this.state(req.workspaceId);
    throw new BudgetExceededError({
      budget_usd: nanoToNumber(state.budgetNano),
      spent_usd: nanoToNumber(state.spentNano),
      reserved_usd: nanoToNumber(state.reservedNano),
      requested_usd: nanoToNumber(req.amountNano),
    });
  }

  /** One reservation through the workspace's group commit; undefined when the budget cannot take it. */
  private tryReserve(req: ReserveRequest): Promise<Reservation | undefined> {
    if (!this.groupCommit) return this.reserveOne(req);
    return this.batcher.submit(req.workspaceId, req);
  }

  /** The requests of one workspace that queued together, admitted in arrival order by one statement. */
  private async reserveBatch(reqs: ReserveRequest[]): Promise<Array<ItemOutcome<Reservation | undefined>>> {
    if (reqs.length === 1) return [succeeded(await this.reserveOne(reqs[0]!))];
    try {
      return (await this.reserveTogether(reqs)).map(succeeded);
    } catch {
      // One bad request (a run id that no longer exists, say) must not fail the others queued with it: the
      // batch, which wrote nothing, runs again one request at a time, and each caller gets its own outcome.
      const out: Array<ItemOutcome<Reservation | undefined>> = [];
      for (const r of reqs) out.push(await this.reserveOne(r).then(succeeded, failed));
      return out;
    }
  }

  private async reserveTogether(reqs: ReserveRequest[]): Promise<Array<Reservation | undefined>> {
    const workspaceId = reqs[0]!.workspaceId;
    for (let attempt = 1; ; attempt++) {
      const rows = reqs.map((r) => ({
        id: randomUUID(),
        amount: nanoToDecimal(r.amountNano),
        model: r.model,
        agentRunId: r.agentRunId ?? null,
        correlationId: r.correlationId ?? null,
      }));
      const out = await this.budgets.reserveBatch(
        workspaceId,
        this.defaultBudget,
        this.reservationTtlMs,
        rows,
      );
      if (out.applied) {
        return reqs.map((r, i) =>
          out.admitted[i]
            ? { id: rows[i]!.id, workspaceId, month: out.month, amountNano: r.amountNano }
            : undefined,
        );
      }
      if (attempt >= MAX_BATCH_ATTEMPTS)
        throw new Error(
          `reservation batch for workspace ${workspaceId} not applied after ${attempt} attempts`,
        );
    }
  }

  private async reserveOne(req: ReserveRequest): Promise<Reservation | undefined> {
    const row = await this.budgets.reserve({
      workspaceId: req.workspaceId,
      defaultBudget: this.defaultBudget,
      amount: nanoToDecimal(req.amountNano),
      model: req.model,
      agentRunId: req.agentRunId ?? null,
      correlationId: req.correlationId ?? null,
      ttlMs: this.reservationTtlMs,
    });
    return row && { id: row.id, workspaceId: req.workspaceId, month: row.month, amountNano: req.amountNano };
  }

  /**
   * Raises an active reservation to `amountNano` (a fallback to a pricier model), under the same budget
   * check; throws BudgetExceededError and leaves the reservation as it was when the budget cannot take it.
   */
  async raise(reservation: Reservation, amountNano: bigint): Promise<void> {
    if (amountNano <= reservation.amountNano) return;
    const delta = nanoToDecimal(amountNano - reservation.amountNano);
    const raised = await this.budgets.raise(reservation, delta, this.defaultBudget);
    if (!raised) {
      const state = await this.state(reservation.workspaceId);
      throw new BudgetExceededError({
        budget_usd: nanoToNumber(state.budgetNano),
        spent_usd: nanoToNumber(state.spentNano),
        reserved_usd: nanoToNumber(state.reservedNano),
        requested_usd: nanoToNumber(amountNano - reservation.amountNano),
      });
    }
    reservation.amountNano = amountNano;
  }

  /**
   * Turns the reservation into spend: the reserved amount is given back (unless it was already reclaimed as
   * expired) and the actual cost is added to the current month. Call inside the transaction that writes the
   * cost row, so spend and its record commit together. Settling twice is a no-op.
   */
  async settle(reservation: Reservation, actualNano: bigint, trx: Knex.Transaction): Promise<void> {
    await this.finish(reservation, actualNano, 'settled', trx);
  }

  /** The call failed or was cancelled: the reservation is given back in full. */
  async release(reservation: Reservation, trx?: Knex.Transaction): Promise<void> {
    if (trx) await this.finish(reservation, 0n, 'released', trx);
    else await this.db.transaction((t) => this.finish(reservation, 0n, 'released', t));
  }

  /**
   * settle/release for the calls of one workspace whose trails commit together: one statement in `trx`,
   * with each reservation counted exactly as its own settle or release would count it.
   */
  async finishMany(
    trx: Knex.Transaction,
    workspaceId: string,
    items: Array<{ reservation: Reservation; status: 'settled' | 'released'; actualNano: bigint }>,
  ): Promise<void> {
    if (items.length === 0) return;
    if (new Set(items.map((i) => i.reservation.id)).size !== items.length)
      throw new Error('finishMany needs distinct reservations');
    await this.budgets.finishBatch(
      trx,
      workspaceId,
      items.map((i) => ({
        id: i.reservation.id,
        status: i.status,
        actual: nanoToDecimal(i.status === 'settled' ? i.actualNano : 0n),
      })),
    );
  }

  /** The SQL and its reasoning live in the budget repository (FINISH_STATEMENT). */
  private async finish(
    reservation: Reservation,
    actualNano: bigint,
    status: 'settled' | 'released',
    trx: Knex.Transaction,
  ): Promise<void> {
    await this.budgets.finish(trx, reservation, status, nanoToDecimal(actualNano));
  }

  /**
   * Marks active reservations past their expiry as expired and gives their amounts back. Returns how many
   * were reclaimed. Safe to run concurrently with settle (row locks) and from every process.
   */
  async reclaimExpired(workspaceId?: string): Promise<number> {
    return this.budgets.reclaimExpired(workspaceId);
  }

  /** Budget, spent and reserved for a UTC month (default: the current one). */
  async state(workspaceId: string, month?: string): Promise<BudgetState> {
    const row = await this.budgets.state(workspaceId, this.defaultBudget, month);
    return {
      month: row.month,
      budgetNano: decimalToNano(row.budget),
      spentNano: decimalToNano(row.spent ?? '0'),
      reservedNano: decimalToNano(row.reserved ?? '0'),
    };
  }

  /**
   * The `limit` workspaces that spent the largest share of this month's budget (the metrics' top N), each
   * ratio computed on exact nano-USD like the cost summary's `percent_used`.
   */
  async topUtilisation(limit: number): Promise<Array<{ workspaceId: string; ratio: number }>> {
    const rows = await this.budgets.topUtilisation(this.defaultBudget, limit);
    return rows.map((r) => ({
      workspaceId: r.workspace_id,
      ratio: ratioOf(decimalToNano(r.spent), decimalToNano(r.budget)),
    }));
  }
}
