import { BaseModel } from './base.model';

/** Money columns are NUMERIC and arrive as exact decimal strings. */
export class CostLog extends BaseModel {
  static override tableName = 'cost_logs';
  declare id: string;
  declare workspace_id: string;
  declare agent_run_id: string | null;
  declare reservation_id: string | null;
  declare actor_user_id: string | null;
  declare provider: string;
  declare model: string;
  declare alias: string | null;
  declare input_tokens: number;
  declare output_tokens: number;
  declare cached_input_tokens: number;
  declare cache_write_tokens: number;
  declare thinking_tokens: number;
  declare cost_usd: string;
  declare pricing_version: string | null;
  declare correlation_id: string | null;
  declare outcome: 'success' | 'failed' | 'cancelled';
  declare error_code: string | null;
  declare latency_ms: number | null;
  declare attempts: number;
  declare created_at: Date;
}

export class CostRollup extends BaseModel {
  static override tableName = 'cost_rollups';
  declare id: string;
  declare workspace_id: string;
  declare period: 'month' | 'day';
  declare period_start: string;
  declare model: string;
  declare calls: number;
  declare input_tokens: number;
  declare output_tokens: number;
  declare cached_input_tokens: number;
  declare thinking_tokens: number;
  declare spent_usd: string;
  declare updated_at: Date;
}

export class CostRollupFold extends BaseModel {
  static override tableName = 'cost_rollup_folds';
  static override get idColumn(): string {
    return 'cost_log_id';
  }
  declare cost_log_id: string;
  declare workspace_id: string;
  declare folded_at: Date;
}

export type ReservationStatus = 'active' | 'settled' | 'released' | 'expired';

export class BudgetReservation extends BaseModel {
  static override tableName = 'budget_reservations';
  declare id: string;
  declare workspace_id: string;
  declare month: string;
  declare amount_usd: string;
  declare settled_cost_usd: string | null;
  declare status: ReservationStatus;
  declare agent_run_id: string | null;
  declare model: string | null;
  declare correlation_id: string | null;
  declare expires_at: Date;
  declare created_at: Date;
  declare updated_at: Date;
}

export class BudgetAlert extends BaseModel {
  static override tableName = 'budget_alerts';
  declare id: string;
  declare workspace_id: string;
  declare month: string;
  declare threshold_percent: number;
  declare spent_usd: string;
  declare budget_usd: string;
  declare created_at: Date;
}

/** The dispatcher's admission counters per workspace and UTC month (see migration 6). */
export class BudgetUsage extends BaseModel {
  static override tableName = 'budget_usage';
  static override get idColumn(): string[] {
    return ['workspace_id', 'month'];
  }
  declare workspace_id: string;
  declare month: string;
  declare spent_usd: string;
  declare reserved_usd: string;
  declare calls: number;
  declare updated_at: Date;
}
