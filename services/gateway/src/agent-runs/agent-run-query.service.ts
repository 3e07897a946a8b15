import type { Knex } from 'knex';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { getDatabase } from '@raptorflow/core/db/database';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { RunStatus } from '@raptorflow/data/models/agent.model';
import type { RunListQuery } from './agent-run.schemas';
import {
  COST_COLUMNS,
  RUN_COLUMNS,
  STEP_COLUMNS,
  toCostView,
  toRunView,
  toStepView,
} from './agent-run.views';
import type { CostRow, RunDetailView, RunRow, RunView, StepRow } from './agent-run.views';

const STATUSES: readonly RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const DEFAULT_STATS_WINDOW_MS = 30 * 24 * 3600 * 1000;
// A runner that stamped completed_at but not duration_ms still has a measurable duration.
const DURATION = `COALESCE(duration_ms, (EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000)::int)`;

export interface RunStats {
  from: string;
  to: string;
  total: number;
  by_status: Record<RunStatus, number>;
  by_agent: Array<{ agent: string; total: number; completed: number; failed: number; cancelled: number }>;
  duration_ms: { p50: number | null; p95: number | null };
  cost_usd: { total: number; per_run_avg: number | null };
}

/** Reads of a workspace's runs. Every query is scoped by workspace id, so another workspace's run is "not found". */
export class AgentRunQueryService {
  private readonly db: Knex;

  constructor(opts: { db?: Knex } = {}) {
    this.db = opts.db ?? getDatabase();
  }

  async list(workspaceId: string, q: RunListQuery, after?: Keyset): Promise<KeysetPage<RunView>> {
    const query = this.db('agent_runs')
      .where({ workspace_id: workspaceId })
      .select<RunRow[]>(...RUN_COLUMNS)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(q.limit + 1);
    if (q.status) query.andWhere('status', q.status);
    if (q.agent) query.andWhere('agent_key', q.agent);
    if (q.from) query.andWhere('created_at', '>=', q.from);
    if (q.to) query.andWhere('created_at', '<', q.to);
    if (after) query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.t, after.id]);
    return keysetPage(await query, q.limit, toRunView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async find(workspaceId: string, id: string): Promise<RunView | undefined> {
    const row = await this.db('agent_runs')
      .where({ id, workspace_id: workspaceId })
      .first<RunRow | undefined>(...RUN_COLUMNS);
    return row ? toRunView(row) : undefined;
  }

  async detail(workspaceId: string, id: string): Promise<RunDetailView | undefined> {
    const run = await this.find(workspaceId, id);
    if (!run) return undefined;
    const [steps, costs] = await Promise.all([
      this.db('agent_run_steps')
        .where({ run_id: id, workspace_id: workspaceId })
        .orderBy([{ column: 'position' }, { column: 'started_at' }])
        .select<StepRow[]>(...STEP_COLUMNS),
      this.db('cost_logs')
        .where({ agent_run_id: id, workspace_id: workspaceId })
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .select<CostRow[]>(...COST_COLUMNS),
    ]);
    return { ...run, steps: steps.map(toStepView), costs: costs.map(toCostView) };
  }

  /** Runs created in [from, to): counts by status and agent, completed durations, spend. */
  async stats(
    workspaceId: string,
    range: { from?: string; to?: string },
    now = new Date(),
  ): Promise<RunStats> {
    const to = range.to ? new Date(range.to) : now;
    const from = range.from ? new Date(range.from) : new Date(to.getTime() - DEFAULT_STATS_WINDOW_MS);
    // Checked after the defaults: a lone `from` in the future is as empty a window as from > to.
    if (from >= to)
      throw new ValidationFailedError('Invalid request: query.from: must be before `to`', [
        { path: 'query.from', message: 'must be before `to` (default now)' },
      ]);
    const scope = (qb: Knex.QueryBuilder) =>
      qb
        .where('workspace_id', workspaceId)
        .where('created_at', '>=', from.toISOString())
        .where('created_at', '<', to.toISOString());

    const [groups, [totals]] = await Promise.all([
      scope(this.db('agent_runs'))
        .groupBy('agent_key', 'status')
        .select<Array<{ agent_key: string; status: RunStatus; n: number }>>(
          'agent_key',
          'status',
          this.db.raw('count(*)::int AS n'),
        ),
      scope(this.db('agent_runs')).select<
        Array<{ p50: number | null; p95: number | null; cost: string | null; avg: string | null }>
      >(
        this.db.raw(
          `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${DURATION}) FILTER (WHERE status = 'completed') AS p50`,
        ),
        this.db.raw(
          `percentile_cont(0.95) WITHIN GROUP (ORDER BY ${DURATION}) FILTER (WHERE status = 'completed') AS p95`,
        ),
        this.db.raw('sum(cost_usd)::text AS cost'),
        this.db.raw('round(avg(cost_usd), 10)::text AS avg'),
      ),
    ]);

    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    const byAgent = new Map<string, RunStats['by_agent'][number]>();
    for (const g of groups) {
      byStatus[g.status] += g.n;
      const a = byAgent.get(g.agent_key) ?? {
        agent: g.agent_key,
        total: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      };
      a.total += g.n;
      if (g.status === 'completed' || g.status === 'failed' || g.status === 'cancelled') a[g.status] += g.n;
      byAgent.set(g.agent_key, a);
    }
    const round = (v: number | null) => (v === null ? null : Math.round(Number(v)));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      total: STATUSES.reduce((n, s) => n + byStatus[s], 0),
      by_status: byStatus,
      by_agent: [...byAgent.values()].sort((x, y) => y.total - x.total || x.agent.localeCompare(y.agent)),
      duration_ms: { p50: round(totals?.p50 ?? null), p95: round(totals?.p95 ?? null) },
      cost_usd: {
        total: Number(totals?.cost ?? 0),
        per_run_avg: totals?.avg === null || totals?.avg === undefined ? null : Number(totals.avg),
      },
    };
  }
}
