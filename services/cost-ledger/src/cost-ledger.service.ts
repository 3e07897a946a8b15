import type { Knex } from 'knex';
import type { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { CostRollupRepository } from '@raptorflow/data/repositories/cost-rollup.repository';
import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { FiredAlert } from '@raptorflow/llm/budget-alerts.service';
import type { Logger } from '@raptorflow/core/logging/logger';
import { GroupCommit } from '@raptorflow/core/batching/group-commit';
import type { ItemOutcome } from '@raptorflow/core/batching/group-commit';

export interface FoldResult {
  folded: boolean;
  alerts: FiredAlert[];
}

export interface CostLedgerServiceOptions {
  db: Knex;
  alerts: BudgetAlertService;
  logger: Logger;
  /** Most cost events folded in one transaction (default 500). */
  maxBatch?: number;
  /**
   * Fold transactions of this service running at once (default 1). Batches of one ledger mostly touch the same
   * rollup rows, so a second one in flight only waits on the first's row locks: measured, 1 folds the most.
   */
  maxInFlight?: number;
}

/**
 * Folds cost rows into the workspace × month × model and workspace × day × model rollups (UTC calendar).
 *
 * Folds are group-committed: the `cost.recorded` events handled while a fold transaction runs are folded
 * together in the next one (GroupCommit): four round trips (BEGIN, two statements, COMMIT) and one commit
 * flush whatever their number, so the worker's concurrency (the jobs in hand) sets the batch size. In it:
 *  1. one statement claims their `cost_rollup_folds` rows (a redelivered event, or the same event twice in
 *     one batch, claims nothing and folds nothing twice), adds the increments summed per rollup row, and
 *     then takes the advisory lock of every workspace-month touched, in lock-id order;
 *  2. one statement checks the budget thresholds of those months on the new totals (plus, only when one
 *     fires, its audit row and outbox event).
 * The locks come after the increments on purpose: whichever fold of a workspace-month takes its lock last
 * reads (in the fresh snapshot of statement 2) every increment committed before, its own included, so no
 * crossing of a threshold is missed however folds and batches interleave. Each fold takes its locks in one
 * global order (fold rows by id, rollup rows by key, then month locks by id), so concurrent batches, in this
 * process or in other ledger processes, wait on each other but never deadlock. Within a batch, a threshold
 * fires on the event whose running total crossed it, with that total: what folding them one by one would do.
 *
 * An event's promise settles when its batch has committed. If a batch fails for a reason other than the
 * database being unreachable (e.g. one row overflows a rollup), nothing of it was committed and its events
 * are folded again one by one, in order, each in its own transaction: the good ones fold once, the bad one
 * alone fails (and is retried, then dead-lettered, by the worker as before).
 */
export class CostLedgerService {
  private readonly db: Knex;
  private readonly rollups: CostRollupRepository;
  private readonly alerts: BudgetAlertService;
  private readonly logger: Logger;
  private readonly batcher: GroupCommit<string, FoldResult>;

  constructor(opts: CostLedgerServiceOptions) {
    this.db = opts.db;
    this.rollups = new CostRollupRepository(opts.db);
    this.alerts = opts.alerts;
    this.logger = opts.logger;
    this.batcher = new GroupCommit({
      run: (ids) => this.foldBatch(ids),
      maxBatch: opts.maxBatch ?? 500,
      maxInFlight: opts.maxInFlight ?? 1,
    });
  }

  /** Folds one cost row (with whatever other folds are waiting); `folded` false when it was folded before. */
  fold(costLogId: string): Promise<FoldResult> {
    return this.batcher.submit(costLogId);
  }

  private async foldBatch(ids: string[]): Promise<Array<ItemOutcome<FoldResult>>> {
    try {
      return (await this.foldTogether(ids)).map((value) => ({ ok: true, value }));
    } catch (err) {
      // Unreachable database: one by one would fail the same way; the worker postpones every job.
      if (ids.length === 1 || isTransientDbError(err)) throw err;
      this.logger.warn({ err, events: ids.length }, 'fold batch failed; folding its events one by one');
      const outcomes: Array<ItemOutcome<FoldResult>> = [];
      for (const id of ids) {
        try {
          outcomes.push({ ok: true, value: (await this.foldTogether([id]))[0]! });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    }
  }

  /** One transaction for all of `ids`; a result per position (a repeated id folds at its first position). */
  private async foldTogether(ids: string[]): Promise<FoldResult[]> {
    const first = new Map<string, number>();
    ids.forEach((id, i) => {
      if (!first.has(id)) first.set(id, i);
    });
    const { claimed, alerts } = await this.db.transaction(async (trx) => {
      // Fold order is arrival order: the threshold check attributes each crossing to the event that made it.
      const rows = (await this.rollups.foldBatch(trx, ids)).sort(
        (a, b) => first.get(a.id)! - first.get(b.id)!,
      );
      if (rows.length === 0) return { claimed: rows, alerts: [] };
      const events = rows.map((r) => ({ workspaceId: r.workspace_id, month: r.month, costUsd: r.cost_usd }));
      return { claimed: rows, alerts: await this.alerts.evaluateBatch(trx, events) };
    });
    const results: FoldResult[] = ids.map(() => ({ folded: false, alerts: [] }));
    for (const r of claimed) results[first.get(r.id)!]!.folded = true;
    for (const { index, ...a } of alerts) {
      results[first.get(claimed[index]!.id)!]!.alerts.push(a);
      this.report(a);
    }
    return results;
  }

  private report(a: FiredAlert): void {
    getMetrics().budgetAlertsTotal.inc({ threshold: String(a.threshold_percent) });
    this.logger.warn(
      {
        workspace_id: a.workspace_id,
        month: a.month,
        threshold_percent: a.threshold_percent,
        spent_usd: a.spent_usd,
        budget_usd: a.budget_usd,
      },
      `budget alert: ${a.threshold_percent}% of the month budget reached`,
    );
  }
}
