import type { Knex } from 'knex';
import type { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { getDatabase } from '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';

export interface BudgetView {
  workspace_id: string;
  monthly_budget_usd: number;
  source: 'workspace' | 'default';
  updated_at: string | null;
}

export interface BudgetServiceOptions {
  db?: Knex;
  audit?: AuditLogService;
  alerts?: BudgetAlertService;
  defaultBudgetUsd?: number;
}

/** A workspace's monthly budget: its own row, else MONTHLY_WORKSPACE_BUDGET_USD. */
export class BudgetService {
  private readonly db: Knex;
  private readonly audit: AuditLogService;
  private readonly defaultBudgetUsd: number;
  private readonly alerts: BudgetAlertService | undefined;

  constructor(opts: BudgetServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.audit = opts.audit ?? new AuditLogService({ db: this.db });
    this.alerts = opts.alerts;
    this.defaultBudgetUsd = opts.defaultBudgetUsd ?? getSettings().monthlyWorkspaceBudgetUsd;
  }

  async get(workspaceId: string, db: Knex = this.db): Promise<BudgetView> {
    const row = await db('workspace_budgets')
      .where({ workspace_id: workspaceId })
      .first<{ monthly_budget_usd: string; updated_at: Date } | undefined>(
        'monthly_budget_usd',
        'updated_at',
      );
    return row
      ? {
          workspace_id: workspaceId,
          monthly_budget_usd: Number(row.monthly_budget_usd),
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
      // toFixed keeps the exact decimal the client sent (validated to ≤ 6 places) instead of a float's tail.
      const amount = monthlyBudgetUsd.toFixed(6);
      await trx('workspace_budgets')
        .insert({ workspace_id: workspaceId, monthly_budget_usd: amount, updated_by: userId })
        .onConflict('workspace_id')
        .merge({ monthly_budget_usd: amount, updated_by: userId, updated_at: trx.fn.now() });
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
