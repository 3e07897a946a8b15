import type { Knex } from 'knex';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { decimalToNano, nanoToNumber } from '@raptorflow/core/money/money';
import { getDatabase } from '@raptorflow/core/db/database';

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
  db?: Knex;
  ledger?: BudgetLedgerService;
}

/** A workspace's month (UTC): the dispatcher's admission counters, the per-model breakdown, alerts fired. */
export class CostSummaryService {
  private readonly db: Knex;
  private readonly ledger: BudgetLedgerService;

  constructor(opts: CostSummaryServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.ledger = opts.ledger ?? new BudgetLedgerService({ db: this.db });
  }

  /** `month` is YYYY-MM (validated by the route); undefined means the current UTC month. */
  async summary(workspaceId: string, month?: string): Promise<CostSummary> {
    // Reservations of dead holders would otherwise show as "reserved" until the next sweep.
    await this.ledger.reclaimExpired(workspaceId);
    const state = await this.ledger.state(workspaceId, month ? `${month}-01` : undefined);
    const rows = await this.db('cost_logs')
      .where('workspace_id', workspaceId)
      .where('created_at', '>=', this.db.raw(`(?::date)::timestamp AT TIME ZONE 'UTC'`, [state.month]))
      .where(
        'created_at',
        '<',
        this.db.raw(`((?::date) + interval '1 month')::timestamp AT TIME ZONE 'UTC'`, [state.month]),
      )
      .groupBy('model')
      .orderBy('model')
      .select<
        Array<{ model: string; calls: number; input_tokens: string; output_tokens: string; spent: string }>
      >(
        'model',
        this.db.raw('count(*)::int AS calls'),
        this.db.raw('sum(input_tokens + cached_input_tokens + cache_write_tokens)::bigint AS input_tokens'),
        this.db.raw('sum(output_tokens + thinking_tokens)::bigint AS output_tokens'),
        this.db.raw('sum(cost_usd)::text AS spent'),
      );
    const alerts = await this.db('budget_alerts')
      .where({ workspace_id: workspaceId, month: state.month })
      .orderBy('threshold_percent')
      .select<
        Array<{
          threshold_percent: number;
          spent_usd: string;
          budget_usd: string;
          created_at: Date;
          delivered_at: Date | null;
        }>
      >('threshold_percent', 'spent_usd', 'budget_usd', 'created_at', 'delivered_at');
    const remaining = state.budgetNano - state.spentNano - state.reservedNano;
    return {
      month: state.month.slice(0, 7),
      budget_usd: nanoToNumber(state.budgetNano),
      spent_usd: nanoToNumber(state.spentNano),
      reserved_usd: nanoToNumber(state.reservedNano),
      remaining_usd: nanoToNumber(remaining > 0n ? remaining : 0n),
      percent_used:
        state.budgetNano === 0n
          ? state.spentNano > 0n
            ? 100
            : 0
          : Number((state.spentNano * 10_000n) / state.budgetNano) / 100,
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
    const rows = await this.db('cost_rollups')
      .where({ workspace_id: workspaceId, period: 'day' })
      .whereBetween('period_start', [from, to])
      .orderBy([{ column: 'period_start' }, { column: 'model' }])
      .select<
        Array<{
          day: string;
          model: string;
          calls: number;
          input_tokens: number;
          output_tokens: number;
          spent: string;
        }>
      >(
        this.db.raw(`period_start::text AS day`),
        'model',
        'calls',
        this.db.raw('input_tokens + cached_input_tokens AS input_tokens'),
        this.db.raw('output_tokens + thinking_tokens AS output_tokens'),
        this.db.raw('spent_usd::text AS spent'),
      );
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
