import type { Knex } from 'knex';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetAlertRepository } from '@raptorflow/data/repositories/budget-alert.repository';
import type { FiredAlertRow } from '@raptorflow/data/repositories/budget-alert.repository';
import { budgetUsdToDecimal } from '@raptorflow/core/money/money';

/** Alerts fire when a month's spend reaches these percentages of the budget. */
export const ALERT_THRESHOLDS: readonly number[] = [50, 80, 100];

export type FiredAlert = FiredAlertRow;

export interface BudgetAlertOptions {
  db: Knex;
  bus: RaptorBus;
  audit: AuditLogService;
  /** MONTHLY_WORKSPACE_BUDGET_USD: the budget of a workspace that set none. */
  defaultBudgetUsd: number;
}

/**
 * Budget thresholds (issue: "each fires exactly once per month per workspace, even with many workers"). The
 * unique (workspace, month, threshold) row is the "fired" flag; inserting it, its audit row and the
 * `budget.alert.fired` event happen in the caller's transaction, so an alert is never half-fired.
 */
export class BudgetAlertService {
  private readonly alerts: BudgetAlertRepository;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;
  private readonly defaultBudget: string;

  constructor(opts: BudgetAlertOptions) {
    this.alerts = new BudgetAlertRepository(opts.db);
    this.bus = opts.bus;
    this.audit = opts.audit;
    this.defaultBudget = budgetUsdToDecimal(opts.defaultBudgetUsd);
  }

  /** `month` is the first day (YYYY-MM-01). The caller holds lockWorkspaceMonth. */
  async evaluate(trx: Knex.Transaction, workspaceId: string, month: string): Promise<FiredAlert[]> {
    const rows = await this.alerts.fireReached(trx, workspaceId, month, this.defaultBudget, ALERT_THRESHOLDS);
    for (const a of rows) await this.announce(trx, a);
    return rows;
  }

  /**
   * The batched fold's check: `events` are the cost rows just folded, in fold order (`month` their first
   * day); the caller holds the lock of every workspace-month among them. Each threshold fires on the event
   * whose running total crossed it, with that total (as folding them one by one would); `index` says which.
   */
  async evaluateBatch(
    trx: Knex.Transaction,
    events: ReadonlyArray<{ workspaceId: string; month: string; costUsd: string }>,
  ): Promise<Array<FiredAlert & { index: number }>> {
    const rows = await this.alerts.fireReachedBatch(trx, events, this.defaultBudget, ALERT_THRESHOLDS);
    for (const a of rows) await this.announce(trx, a);
    return rows;
  }

  /** The fired alert's audit row and `budget.alert.fired` event, in the transaction that fired it. */
  private async announce(trx: Knex.Transaction, a: FiredAlert): Promise<void> {
    const workspaceId = a.workspace_id;
    await this.audit.record(
      {
        action: 'budget.alert_fired',
        workspaceId,
        actorType: 'system',
        actorId: null,
        resourceType: 'budget_alert',
        resourceId: a.id,
        output: {
          month: a.month,
          threshold_percent: a.threshold_percent,
          spent_usd: a.spent_usd,
          budget_usd: a.budget_usd,
        },
      },
      trx,
    );
    await this.bus.publish(
      'budget.alert.fired',
      {
        alert_id: a.id,
        month: a.month,
        threshold_percent: a.threshold_percent,
        spent_usd: trimDecimal(a.spent_usd),
        budget_usd: trimDecimal(a.budget_usd),
      },
      { trx, workspaceId },
    );
  }

  /**
   * After a budget change: this month's alerts whose threshold the spend no longer reaches are forgotten, so
   * they fire again when the spend gets there (a raised budget re-arms the thresholds above the spend).
   */
  async rearm(trx: Knex.Transaction, workspaceId: string): Promise<number[]> {
    return this.alerts.rearm(trx, workspaceId, this.defaultBudget);
  }
}

/** "40.5000000000" → "40.5": the event schema takes plain decimals. */
function trimDecimal(v: string): string {
  return v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
}
