import type { Knex } from 'knex';
import { getSettings } from '@raptorflow/core/config/settings';
import { getDatabase } from '@raptorflow/core/db/database';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { CURRENT_MONTH_SQL, budgetOfSql } from '@raptorflow/data/costs/budget-sql';
import { BudgetExceededError } from '@raptorflow/core/errors/app-error';
import { decimalToNano, nanoToDecimal, nanoToNumber } from '@raptorflow/core/money/money';

/** $1 workspace, $2 default budget, $3 amount, $4 model, $5 agent run, $6 correlation id, $7 TTL ms. */
const RESERVE_STATEMENT = {
  name: 'raptorflow_budget_reserve_v1',
  text: `WITH b AS (
           SELECT ${budgetOfSql('$1', '$2')} AS budget
         ), up AS (
           INSERT INTO budget_usage AS u (workspace_id, month, reserved_usd)
           SELECT $1, ${CURRENT_MONTH_SQL}, $3::numeric FROM b WHERE $3::numeric <= b.budget
           ON CONFLICT (workspace_id, month) DO UPDATE
             SET reserved_usd = u.reserved_usd + EXCLUDED.reserved_usd, updated_at = now()
             WHERE u.spent_usd + u.reserved_usd + EXCLUDED.reserved_usd <= (SELECT budget FROM b)
           RETURNING u.workspace_id, u.month
         )
         INSERT INTO budget_reservations (workspace_id, month, amount_usd, model, agent_run_id, correlation_id,
                                          expires_at)
         SELECT up.workspace_id, up.month, $3::numeric, $4, $5, $6,
                now() + make_interval(secs => $7::double precision / 1000)
         FROM up
         RETURNING id, month::text AS month`,
};

/** $1 reservation, $2 new status, $3 actual cost, $4 workspace (see finish()). */
const FINISH_SQL = `WITH cur AS (SELECT ${CURRENT_MONTH_SQL} AS month),
       old AS (
         SELECT id, status, amount_usd, month FROM budget_reservations WHERE id = $1 FOR UPDATE
       ), done AS (
         UPDATE budget_reservations r
         SET status = $2, settled_cost_usd = $3::numeric, updated_at = now()
         FROM old WHERE r.id = old.id AND old.status IN ('active', 'expired')
         RETURNING old.status AS old_status, old.amount_usd, old.month
       ), give_back AS (
         SELECT COALESCE(SUM(done.amount_usd) FILTER (WHERE done.old_status = 'active'), 0) AS amount,
                bool_or(done.month <> cur.month) AS other_month
         FROM done, cur
       ), other_month AS (
         UPDATE budget_usage u SET reserved_usd = GREATEST(u.reserved_usd - g.amount, 0), updated_at = now()
         FROM give_back g, done
         WHERE g.other_month AND u.workspace_id = $4 AND u.month = done.month
         RETURNING 1
       )
       INSERT INTO budget_usage AS u (workspace_id, month, spent_usd, calls)
       SELECT $4, cur.month, $3::numeric, 1 FROM cur
       WHERE EXISTS (SELECT 1 FROM done) OR NOT EXISTS (SELECT 1 FROM old)
       ON CONFLICT (workspace_id, month) DO UPDATE SET
         spent_usd = u.spent_usd + EXCLUDED.spent_usd,
         reserved_usd = GREATEST(
           u.reserved_usd - (SELECT CASE WHEN g.other_month THEN 0 ELSE g.amount END FROM give_back g), 0),
         calls = u.calls + 1,
         updated_at = now()`;

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
  db?: Knex;
  defaultBudgetUsd?: number;
  /** A reservation outliving this is its holder's death: it is reclaimed, never left blocking the budget. */
  reservationTtlMs?: number;
}

/**
 * Budget admission with PostgreSQL as the only source of truth (SPEC §10). A reservation is ONE statement: a
 * conditional upsert of the workspace's `budget_usage` row that only succeeds while spent + reserved + the
 * new amount stays within budget. The row lock serialises concurrent callers, so no interleaving can admit
 * past the budget, and no Redis state exists whose loss could forget spend.
 */
export class BudgetLedgerService {
  private readonly db: Knex;
  private readonly defaultBudget: string;
  readonly reservationTtlMs: number;

  constructor(opts: BudgetLedgerOptions = {}) {
    this.db = opts.db ?? getDatabase();
    const settings = opts.defaultBudgetUsd === undefined ? getSettings() : undefined;
    this.defaultBudget = (opts.defaultBudgetUsd ?? settings!.monthlyWorkspaceBudgetUsd).toFixed(6);
    this.reservationTtlMs = opts.reservationTtlMs ?? getSettings().llm.reservationTtlMs;
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

  private async tryReserve(req: ReserveRequest): Promise<Reservation | undefined> {
    const { rows } = await runPrepared<{ id: string; month: string }>(this.db, RESERVE_STATEMENT, [
      req.workspaceId,
      this.defaultBudget,
      nanoToDecimal(req.amountNano),
      req.model,
      req.agentRunId ?? null,
      req.correlationId ?? null,
      this.reservationTtlMs,
    ]);
    const row = rows[0];
    return row && { id: row.id, workspaceId: req.workspaceId, month: row.month, amountNano: req.amountNano };
  }

  /**
   * Raises an active reservation to `amountNano` (a fallback to a pricier model), under the same budget
   * check; throws BudgetExceededError and leaves the reservation as it was when the budget cannot take it.
   */
  async raise(reservation: Reservation, amountNano: bigint): Promise<void> {
    if (amountNano <= reservation.amountNano) return;
    const delta = nanoToDecimal(amountNano - reservation.amountNano);
    const { rows } = await this.db.raw<{ rows: unknown[] }>(
      `WITH b AS (
         SELECT ${budgetOfSql(':ws', ':default')} AS budget
       ), up AS (
         UPDATE budget_usage u SET reserved_usd = u.reserved_usd + :delta::numeric, updated_at = now()
         WHERE u.workspace_id = :ws AND u.month = :month::date
           AND u.spent_usd + u.reserved_usd + :delta::numeric <= (SELECT budget FROM b)
           AND EXISTS (SELECT 1 FROM budget_reservations WHERE id = :id AND status = 'active')
         RETURNING 1
       )
       UPDATE budget_reservations SET amount_usd = amount_usd + :delta::numeric, updated_at = now()
       WHERE id = :id AND EXISTS (SELECT 1 FROM up) RETURNING id`,
      {
        ws: reservation.workspaceId,
        default: this.defaultBudget,
        delta,
        month: reservation.month,
        id: reservation.id,
      },
    );
    if (rows.length === 0) {
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
   * One statement, one write of the hot `budget_usage` row: the give-back and the spend go into the same
   * upsert (a statement may change a row only once). Only a reservation from an earlier month (a call that
   * crossed midnight UTC at a month's end) gives back on its own month's row. A reservation that is gone
   * altogether still has its spend counted; one already settled or released counts nothing twice.
   */
  private async finish(
    reservation: Reservation,
    actualNano: bigint,
    status: 'settled' | 'released',
    trx: Knex.Transaction,
  ): Promise<void> {
    await runPrepared(trx, { name: 'raptorflow_budget_finish_v1', text: FINISH_SQL }, [
      reservation.id,
      status,
      nanoToDecimal(actualNano),
      reservation.workspaceId,
    ]);
  }

  /**
   * Marks active reservations past their expiry as expired and gives their amounts back. Returns how many
   * were reclaimed. Safe to run concurrently with settle (row locks) and from every process.
   */
  async reclaimExpired(workspaceId?: string): Promise<number> {
    const { rows } = await this.db.raw<{ rows: Array<{ n: number }> }>(
      `WITH exp AS (
         UPDATE budget_reservations SET status = 'expired', updated_at = now()
         WHERE status = 'active' AND expires_at < now() ${workspaceId ? 'AND workspace_id = :ws' : ''}
         RETURNING workspace_id, month, amount_usd
       ), agg AS (
         SELECT workspace_id, month, SUM(amount_usd) AS total, COUNT(*) AS n FROM exp GROUP BY 1, 2
       ), upd AS (
         UPDATE budget_usage u SET reserved_usd = GREATEST(u.reserved_usd - agg.total, 0), updated_at = now()
         FROM agg WHERE u.workspace_id = agg.workspace_id AND u.month = agg.month
         RETURNING 1
       )
       SELECT COALESCE(SUM(n), 0)::int AS n FROM agg`,
      workspaceId ? { ws: workspaceId } : {},
    );
    return rows[0]?.n ?? 0;
  }

  /** Budget, spent and reserved for a UTC month (default: the current one). */
  async state(workspaceId: string, month?: string): Promise<BudgetState> {
    const { rows } = await this.db.raw<{
      rows: Array<{ month: string; budget: string; spent: string | null; reserved: string | null }>;
    }>(
      `SELECT m.month::text AS month,
              ${budgetOfSql(':ws', ':default')}::text AS budget,
              u.spent_usd::text AS spent, u.reserved_usd::text AS reserved
       FROM (SELECT ${month ? ':month::date' : CURRENT_MONTH_SQL} AS month) m
       LEFT JOIN budget_usage u ON u.workspace_id = :ws AND u.month = m.month`,
      month
        ? { ws: workspaceId, default: this.defaultBudget, month }
        : { ws: workspaceId, default: this.defaultBudget },
    );
    const row = rows[0]!;
    return {
      month: row.month,
      budgetNano: decimalToNano(row.budget),
      spentNano: decimalToNano(row.spent ?? '0'),
      reservedNano: decimalToNano(row.reserved ?? '0'),
    };
  }
}
