/**
 * SQL fragments every budget query shares, so "a workspace's budget" and "this month" mean the same thing in
 * admission, alerts, summaries and reconciliation. Arguments are placeholders (`$1`, `:ws`), never values.
 */

/** The UTC calendar month of "now", from the database clock so every process agrees on boundaries. */
export const CURRENT_MONTH_SQL = `date_trunc('month', now() AT TIME ZONE 'UTC')::date`;

/** The workspace's own monthly budget, else the configured default (passed as a decimal string). */
export function budgetOfSql(workspace: string, fallback: string): string {
  return `COALESCE((SELECT monthly_budget_usd FROM workspace_budgets WHERE workspace_id = ${workspace}),
                   ${fallback}::numeric)`;
}

/** One row `(spent, budget)`: the month's spend from the ledger's month rollups, and the budget. */
export function monthSpendAndBudgetSql(workspace: string, month: string, fallback: string): string {
  return `SELECT COALESCE(SUM(spent_usd), 0) AS spent, ${budgetOfSql(workspace, fallback)} AS budget
          FROM cost_rollups WHERE workspace_id = ${workspace} AND period = 'month' AND period_start = ${month}::date`;
}
