import type { Knex } from 'knex';
import type { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { decimalToNano, nanoToNumber, percentOf } from '@raptorflow/core/money/money';
import { BudgetAlertRepository } from '@raptorflow/data/repositories/budget-alert.repository';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import { CostRollupRepository } from '@raptorflow/data/repositories/cost-rollup.repository';

export interface CostSummary {
  month: string;
  budget_usd: number;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
  percent_used: number;
  by_model: Array<{
    model: string;
    calls: number;
    input_tokens: number;
    output_tokens: number;
    spent_usd: number;
  }>;
  alerts: Array<{
    threshold_percent: number;
    spent_usd: number;
    budget_usd: number;
    fired_at: string;
    delivered_at: string | null;
  }>;
}

export interface DailyCosts {
  from: string;
  to: string;
  data: Array<{
    day: string;
    model: string;
    calls: number;
    input_tokens: number;
    output_tokens: number;
    spent_usd: number;
  }>;
}

export interface CostSummaryServiceOptions {
  db: Knex;
  ledger: BudgetLedgerService;
}

/** A workspace's month (UTC): the dispatcher's admission counters, the per-model breakdown, alerts fired. */
export class CostSummaryService {
  private readonly costs: CostLogRepository;
  private readonly rollups: CostRollupRepository;
  private readonly alerts: BudgetAlertRepository;
  private readonly ledger: BudgetLedgerService;

  constructor(opts: CostSummaryServiceOptions) {
    const { db } = opts;
    this.costs = new CostLogRepository(db);
    this.rollups = new CostRollupRepository(db);
    this.alerts = new BudgetAlertRepository(db);
    this.ledger = opts.ledger;
  }

  /** `month` is YYYY-MM (validated by the route); undefined means the current UTC month. */
  async summary(workspaceId: string, month?: string): Promise<CostSummary> {
    // Reservations of dead holders would otherwise show as "reserved" until the next sweep.
    await this.ledger.reclaimExpired(workspaceId);
    const state = await this.ledger.state(workspaceId, month ? `${month}-01` : undefined);
    const rows = await this.costs.monthByModel(workspaceId, state.month);
    const alerts = await this.alerts.listForMonth(workspaceId, state.month);
    const remaining = state.budgetNano - state.spentNano - state.reservedNano;
    return {
      month: state.month.slice(0, 7),
      budget_usd: nanoToNumber(state.budgetNano),
      spent_usd: nanoToNumber(state.spentNano),
      reserved_usd: nanoToNumber(state.reservedNano),
      remaining_usd: nanoToNumber(remaining > 0n ? remaining : 0n),
      percent_used: percentOf(state.spentNano, state.budgetNano),
      by_model: rows.map((r) => ({
        model: r.model,
        calls: r.calls,
        input_tokens: Number(r.input_tokens),
        output_tokens: Number(r.output_tokens),
        spent_usd: nanoToNumber(decimalToNano(r.spent)),
      })),
      alerts: alerts.map((a) => ({
        threshold_percent: a.threshold_percent,
        spent_usd: nanoToNumber(decimalToNano(a.spent_usd)),
        budget_usd: nanoToNumber(decimalToNano(a.budget_usd)),
        fired_at: a.created_at.toISOString(),
        delivered_at: a.delivered_at?.toISOString() ?? null,
      })),
    };
  }

  /** Day × model rollups (UTC days, both ends inclusive), from the cost-ledger's folds. */
  async daily(workspaceId: string, from: string, to: string): Promise<DailyCosts> {
    const rows = await this.rollups.daily(workspaceId, from, to);
    return {
      from,
      to,
      data: rows.map((r) => ({
        day: r.day,
        model: r.model,
        calls: r.calls,
        input_tokens: Number(r.input_tokens),
        output_tokens: Number(r.output_tokens),
        spent_usd: nanoToNumber(decimalToNano(r.spent)),
      })),
    };
  }
}
