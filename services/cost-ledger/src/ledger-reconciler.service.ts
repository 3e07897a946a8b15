import type { Knex } from 'knex';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { createLogger } from '@raptorflow/core/logging/logger';
import { getDatabase } from '@raptorflow/core/db/database';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import { CURRENT_MONTH_SQL } from '@raptorflow/data/costs/budget-sql';
import type { Logger } from '@raptorflow/core/logging/logger';

const FIELDS = [
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'thinking_tokens',
  'spent_usd',
] as const;
type Values = Record<(typeof FIELDS)[number], string>;

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
  db?: Knex;
  audit?: AuditLogService;
  alerts?: BudgetAlertService;
  budgets?: BudgetLedgerService;
  logger?: Logger;
}

/**
 * Recomputes a month's rollups from `cost_logs` (the record of every call) and corrects any drift: a lost
 * fold, a hand-edited row, a bug. It locks the rollup tables against folds for the duration, so the fresh
 * totals and the rows it writes cannot race a fold; cost rows not folded yet are marked folded, so their
 * late events change nothing. Every correction is logged, counted and audited with before and after.
 */
export class LedgerReconciler {
  private readonly db: Knex;
  private readonly audits: AuditLogService;
  private readonly alerts: BudgetAlertService;
  private readonly budgets: BudgetLedgerService;
  private readonly logger: Logger;

  constructor(opts: LedgerReconcilerOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.audits = opts.audit ?? new AuditLogService({ db: this.db });
    this.alerts = opts.alerts ?? new BudgetAlertService({ db: this.db });
    this.budgets = opts.budgets ?? new BudgetLedgerService({ db: this.db });
    this.logger = opts.logger ?? createLogger('cost-ledger');
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
    const { rows } = await this.db.raw<{ rows: Array<{ cur: string; prev: string }> }>(
      `SELECT ${CURRENT_MONTH_SQL}::text AS cur, (${CURRENT_MONTH_SQL} - interval '1 month')::date::text AS prev`,
    );
    return [rows[0]!.prev, rows[0]!.cur];
  }

  private async reconcileMonth(month: string): Promise<Correction[]> {
    return this.db.transaction(async (trx) => {
      await trx.raw('LOCK TABLE cost_rollups, cost_rollup_folds IN SHARE ROW EXCLUSIVE MODE');
      const range = [month, month];
      const inMonth = `created_at >= (?::date)::timestamp AT TIME ZONE 'UTC'
                   AND created_at < ((?::date) + interval '1 month')::timestamp AT TIME ZONE 'UTC'`;
      await trx.raw(
        `INSERT INTO cost_rollup_folds (cost_log_id, workspace_id)
         SELECT id, workspace_id FROM cost_logs WHERE ${inMonth} ON CONFLICT (cost_log_id) DO NOTHING`,
        range,
      );
      const sums = FIELDS.map((f) =>
        f === 'calls'
          ? 'count(*)::text AS calls'
          : `sum(${f === 'spent_usd' ? 'cost_usd' : f})::text AS ${f}`,
      ).join(', ');
      const { rows } = await trx.raw<{ rows: Array<Record<string, string | null>> }>(
        `WITH expected AS (
           SELECT workspace_id, 'month'::text AS period, ?::date AS period_start, model, ${sums}
           FROM cost_logs WHERE ${inMonth} GROUP BY workspace_id, model
           UNION ALL
           SELECT workspace_id, 'day', date_trunc('day', created_at AT TIME ZONE 'UTC')::date, model, ${sums}
           FROM cost_logs WHERE ${inMonth} GROUP BY 1, 3, 4
         ), actual AS (
           SELECT workspace_id, period, period_start, model, ${FIELDS.map((f) => `${f}::text AS ${f}`).join(', ')}
           FROM cost_rollups
           WHERE (period = 'month' AND period_start = ?::date)
              OR (period = 'day' AND period_start >= ?::date AND period_start < (?::date + interval '1 month'))
         )
         SELECT COALESCE(e.workspace_id, a.workspace_id) AS workspace_id, COALESCE(e.period, a.period) AS period,
                COALESCE(e.period_start, a.period_start)::text AS period_start, COALESCE(e.model, a.model) AS model,
                ${FIELDS.map((f) => `e.${f} AS e_${f}, a.${f} AS a_${f}`).join(', ')}
         FROM expected e FULL OUTER JOIN actual a
           ON a.workspace_id = e.workspace_id AND a.period = e.period AND a.period_start = e.period_start
          AND a.model = e.model
         WHERE ${FIELDS.map((f) => `e.${f}::numeric IS DISTINCT FROM a.${f}::numeric`).join(' OR ')}`,
        [month, ...range, ...range, month, month, month],
      );
      const corrections: Correction[] = rows.map((r) => ({
        workspace_id: r.workspace_id!,
        period: r.period as 'month' | 'day',
        period_start: r.period_start!,
        model: r.model ?? null,
        before: r.a_calls === null ? null : pick(r, 'a_'),
        after: r.e_calls === null ? null : pick(r, 'e_'),
      }));
      for (const c of corrections) await this.apply(trx, c);
      corrections.push(...(await this.reconcileBudgetUsage(trx, month, inMonth, range)));
      for (const ws of new Set(corrections.map((c) => c.workspace_id)))
        await this.alerts.evaluate(trx, ws, month);
      return corrections;
    });
  }

  private async apply(trx: Knex.Transaction, c: Correction): Promise<void> {
    const key = {
      workspace_id: c.workspace_id,
      period: c.period,
      period_start: c.period_start,
      model: c.model,
    };
    if (!c.after) await trx('cost_rollups').where(key).del();
    else
      await trx('cost_rollups')
        .insert({ ...key, ...c.after, updated_at: trx.fn.now() })
        .onConflict(['workspace_id', 'period', 'period_start', 'model'])
        .merge();
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
  private async reconcileBudgetUsage(
    trx: Knex.Transaction,
    month: string,
    inMonth: string,
    range: string[],
  ): Promise<Correction[]> {
    const { rows } = await trx.raw<{
      rows: Array<{ workspace_id: string; before: string | null; after: string }>;
    }>(
      `WITH e AS (SELECT workspace_id, sum(cost_usd) AS spent FROM cost_logs WHERE ${inMonth} GROUP BY 1)
       SELECT e.workspace_id, u.spent_usd::text AS before, e.spent::text AS after
       FROM e LEFT JOIN budget_usage u ON u.workspace_id = e.workspace_id AND u.month = ?::date
       WHERE u.spent_usd IS DISTINCT FROM e.spent`,
      [...range, month],
    );
    const out: Correction[] = [];
    for (const r of rows) {
      await trx('budget_usage')
        .insert({ workspace_id: r.workspace_id, month, spent_usd: r.after })
        .onConflict(['workspace_id', 'month'])
        .merge({ spent_usd: r.after, updated_at: trx.fn.now() });
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
  return Object.fromEntries(FIELDS.map((f) => [f, r[`${prefix}${f}`] ?? '0'])) as Values;
}
