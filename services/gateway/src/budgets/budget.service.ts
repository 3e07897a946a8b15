import type { Knex } from 'knex';
import type { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetRepository } from '@raptorflow/data/repositories/budget.repository';
import { budgetUsdToDecimal, decimalToNumber } from '@raptorflow/core/money/money';

export interface BudgetView {
  workspace_id: string;
  monthly_budget_usd: number;
  source: 'workspace' | 'default';
  updated_at: string | null;
}

export interface BudgetServiceOptions {
  db: Knex;
  audit: AuditLogService;
  /** Re-arms alerts a budget change makes unreached; without it budgets change and alerts stay as they are. */
  alerts?: BudgetAlertService;
  /** MONTHLY_WORKSPACE_BUDGET_USD: the budget of a workspace that set none. */
  defaultBudgetUsd: number;
}

/** A workspace's monthly budget: its own row, else MONTHLY_WORKSPACE_BUDGET_USD. */
export class BudgetService {
  private readonly db: Knex;
  private readonly budgets: BudgetRepository;
  private readonly audit: AuditLogService;
  private readonly defaultBudgetUsd: number;
  private readonly alerts: BudgetAlertService | undefined;

  constructor(opts: BudgetServiceOptions) {
    this.db = opts.db;
    this.budgets = new BudgetRepository(this.db);
    this.audit = opts.audit;
    this.alerts = opts.alerts;
    this.defaultBudgetUsd = opts.defaultBudgetUsd;
  }

  async get(workspaceId: string, db: Knex = this.db): Promise<BudgetView> {
    const row = await this.budgets.workspaceBudget(workspaceId, db);
    return row
      ? {
          workspace_id: workspaceId,
          monthly_budget_usd: decimalToNumber(row.monthly_budget_usd),
          source: 'workspace',
          updated_at: row.updated_at.toISOString(),
        }
      : {
          workspace_id: workspaceId,
          monthly_budget_usd: this.defaultBudgetUsd,
          source: 'default',
          updated_at: null,
        };
  }

  async set(workspaceId: string, userId: string, monthlyBudgetUsd: number): Promise<BudgetView> {
    return this.db.transaction(async (trx) => {
      const before = await this.get(workspaceId, trx);
      await this.budgets.setWorkspaceBudget(trx, workspaceId, budgetUsdToDecimal(monthlyBudgetUsd), userId);
      const after = await this.get(workspaceId, trx);
      // A budget raised above this month's spend re-arms the thresholds the spend no longer reaches.
      const rearmed = await this.alerts?.rearm(trx, workspaceId);
      await this.audit.record(
        {
          action: 'budget.updated',
          workspaceId,
          resourceType: 'workspace_budget',
          resourceId: workspaceId,
          input: { before: pick(before), after: pick(after) },
          output: { ...pick(after), rearmed_alerts: rearmed ?? [] },
        },
        trx,
      );
      return after;
    });
  }
}

function pick(b: BudgetView) {
  return { monthly_budget_usd: b.monthly_budget_usd, source: b.source };
}
