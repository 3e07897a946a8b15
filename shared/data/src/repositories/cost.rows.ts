/**
 * The row types of the costs aggregate: one per table. NUMERIC money columns are exact decimal strings
 * (converted with shared/core's money module, never with float arithmetic); `month` and `period_start` are
 * the first day as 'YYYY-MM-DD' text where repositories select them so.
 */

export type CostOutcome = 'success' | 'failed' | 'cancelled';

export interface CostLogRow {
  id: string;
  workspace_id: string;
  agent_run_id: string | null;
  reservation_id: string | null;
  actor_user_id: string | null;
  provider: string;
  model: string;
  alias: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  thinking_tokens: number;
  cost_usd: string;
  pricing_version: string | null;
  correlation_id: string | null;
  outcome: CostOutcome;
  error_code: string | null;
  latency_ms: number | null;
  attempts: number;
  created_at: Date;
}

export interface CostRollupRow {
  id: string;
  workspace_id: string;
  period: 'month' | 'day';
  period_start: string;
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  thinking_tokens: number;
  spent_usd: string;
  updated_at: Date;
}

export interface CostRollupFoldRow {
  cost_log_id: string;
  workspace_id: string;
  folded_at: Date;
}

export type ReservationStatus = 'active' | 'settled' | 'released' | 'expired';

export interface BudgetReservationRow {
  id: string;
  workspace_id: string;
  month: string;
  amount_usd: string;
  settled_cost_usd: string | null;
  status: ReservationStatus;
  agent_run_id: string | null;
  model: string | null;
  correlation_id: string | null;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface BudgetAlertRow {
  id: string;
  workspace_id: string;
  month: string;
  threshold_percent: number;
  spent_usd: string;
  budget_usd: string;
  delivered_at: Date | null;
  delivery_attempts: number;
  last_delivery_error: string | null;
  created_at: Date;
}

/** The dispatcher's admission counters per workspace and UTC month (see migration 6). */
export interface BudgetUsageRow {
  workspace_id: string;
  month: string;
  spent_usd: string;
  reserved_usd: string;
  calls: number;
  updated_at: Date;
}

export interface WorkspaceBudgetRow {
  workspace_id: string;
  monthly_budget_usd: string;
  updated_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns the API shows of a run's cost rows. */
export const RUN_COST_VIEW_COLUMNS = [
  'id',
  'provider',
  'model',
  'outcome',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'created_at',
] as const satisfies ReadonlyArray<keyof CostLogRow>;
export type RunCostViewRow = Pick<CostLogRow, (typeof RUN_COST_VIEW_COLUMNS)[number]>;
