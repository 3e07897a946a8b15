import type { Knex } from 'knex';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import type { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { BudgetRepository } from '@raptorflow/data/repositories/budget.repository';
import { CostRollupRepository, ROLLUP_FIELDS } from '@raptorflow/data/repositories/cost-rollup.repository';
import type { RollupValues } from '@raptorflow/data/repositories/cost-rollup.repository';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { Logger } from '@raptorflow/core/logging/logger';

type Values = RollupValues;

export interface Correction {
  workspace_id: string;
  period: 'month' | 'day' | 'budget_usage';
  period_start: string;
  model: string | null;
  before: Partial<Values> | null;
  after: Partial<Values> | null;
}

export interface ReconcileResult {
  months: string[];
  corrections: Correction[];
  reclaimedReservations: number;
}

export interface LedgerReconcilerOptions {
  db: Knex;
  audit: AuditLogService;
  alerts: BudgetAlertService;
  budgets: BudgetLedgerService;
  logger: Logger;
}

/**
 * Recomputes a month's rollups from `cost_logs` (the record of every call) and corrects any drift: a lost
 * fold, a hand-edited row, a bug. It locks the rollup tables against folds for the duration, so the fresh
 * totals and the rows it writes cannot race a fold; cost rows not folded yet are marked folded, so their
 * late events change nothing. Every correction is logged, counted and audited with before and after.
 */
export class LedgerReconciler {
  private readonly db: Knex;
  private readonly rollups: CostRollupRepository;
  private readonly usage: BudgetRepository;
  private readonly audits: AuditLogService;
  private readonly alerts: BudgetAlertService;
  private readonly budgets: BudgetLedgerService;
  private readonly logger: Logger;

  constructor(opts: LedgerReconcilerOptions) {
    this.db = opts.db;
    this.rollups = new CostRollupRepository(opts.db);
    this.usage = new BudgetRepository(opts.db);
    this.audits = opts.audit;
    this.alerts = opts.alerts;
    this.budgets = opts.budgets;
    this.logger = opts.logger;
  }

  /** `month` YYYY-MM; by default the current and the previous UTC month. */
  async reconcile(opts: { month?: string } = {}): Promise<ReconcileResult> {
    const months = opts.month ? [`${opts.month}-01`] : await this.defaultMonths();
    const corrections: Correction[] = [];
    for (const month of months) corrections.push(...(await this.reconcileMonth(month)));
    const reclaimedReservations = await this.budgets.reclaimExpired();
    for (const c of corrections) {
      getMetrics().ledgerCorrectionsTotal.inc({ period: c.period });
      this.logger.warn({ ...c }, `ledger drift corrected (${c.period} ${c.period_start} ${c.model ?? ''})`);
    }
    return { months: months.map((m) => m.slice(0, 7)), corrections, reclaimedReservations };
  }

  private async defaultMonths(): Promise<string[]> {
    const { cur, prev } = await this.usage.currentAndPreviousMonth();
    return [prev, cur];
  }

  private async reconcileMonth(month: string): Promise<Correction[]> {
    return this.db.transaction(async (trx) => {
      await this.rollups.lockAgainstFolds(trx);
      await this.rollups.claimMonth(trx, month);
      const rows = await this.rollups.monthDrift(trx, month);
      const corrections: Correction[] = rows.map((r) => ({
        workspace_id: r.workspace_id!,
        period: r.period as 'month' | 'day',
        period_start: r.period_start!,
        model: r.model ?? null,
        before: r.a_calls === null ? null : pick(r, 'a_'),
        after: r.e_calls === null ? null : pick(r, 'e_'),
      }));
      for (const c of corrections) await this.apply(trx, c);
      corrections.push(...(await this.reconcileBudgetUsage(trx, month)));
      for (const ws of new Set(corrections.map((c) => c.workspace_id)))
        await this.alerts.evaluate(trx, ws, month);
      return corrections;
    });
  }

  private async apply(trx: Knex.Transaction, c: Correction): Promise<void> {
    const key = {
      workspace_id: c.workspace_id,
      period: c.period as 'month' | 'day',
      period_start: c.period_start,
      model: c.model!,
    };
    await this.rollups.correct(trx, key, c.after);
    await this.audit(trx, c);
  }

  /** Every correction leaves one `ledger.corrected` audit row with what was there and what is now. */
  private async audit(trx: Knex.Transaction, c: Correction): Promise<void> {
    await this.audits.record(
      {
        action: 'ledger.corrected',
        workspaceId: c.workspace_id,
        actorType: 'system',
        actorId: null,
        resourceType: c.period === 'budget_usage' ? 'budget_usage' : 'cost_rollup',
        input: { before: c.before },
        output: { after: c.after },
        metadata: { period: c.period, period_start: c.period_start, model: c.model },
      },
      trx,
    );
  }

  /** The dispatcher's month counter (what admission compares with the budget) must equal the cost rows too. */
  private async reconcileBudgetUsage(trx: Knex.Transaction, month: string): Promise<Correction[]> {
    const rows = await this.usage.spentDrift(trx, month);
    const out: Correction[] = [];
    for (const r of rows) {
      await this.usage.setSpent(trx, r.workspace_id, month, r.after);
      const c: Correction = {
        workspace_id: r.workspace_id,
        period: 'budget_usage',
        period_start: month,
        model: null,
        before: r.before === null ? null : { spent_usd: r.before },
        after: { spent_usd: r.after },
      };
      await this.audit(trx, c);
      out.push(c);
    }
    return out;
  }
}

function pick(r: Record<string, string | null>, prefix: string): Values {
  return Object.fromEntries(ROLLUP_FIELDS.map((f) => [f, r[`${prefix}${f}`] ?? '0'])) as Values;
}
