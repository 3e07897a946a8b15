import type { Knex } from 'knex';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { decimalToNumber } from '@raptorflow/core/money/money';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import { AgentRunTreeRepository } from '@raptorflow/data/repositories/agent-run-tree.repository';
import { AgentRunApprovalRepository } from '@raptorflow/data/repositories/agent-run-approval.repository';
import type { RunStatus } from '@raptorflow/data/repositories/agent-run.rows';
import type { RunListQuery } from './agent-run.schemas';
import { toApprovalView, toChildView, toCostView, toRunView, toStepView } from './agent-run.views';
import type { RunDetailView, RunView } from './agent-run.views';

const STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'awaiting_approval',
  'completed',
  'failed',
  'cancelled',
];
const DEFAULT_STATS_WINDOW_MS = 30 * 24 * 3600 * 1000;

export interface RunStats {
  from: string;
  to: string;
  total: number;
  by_status: Record<RunStatus, number>;
  by_agent: AgentStats[];
  duration_ms: { p50: number | null; p95: number | null };
  cost_usd: { total: number; per_run_avg: number | null };
}

export interface AgentStats {
  agent: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** The spend of the agent's runs in the window (exact decimal, converted once). */
  cost_usd: number;
  /** The agent's newest run at any time, in or before the window; null when it never ran. */
  last_run: { id: string; status: RunStatus; created_at: string } | null;
}

/** Reads of a workspace's runs. Every query is scoped by workspace id, so another workspace's run is "not found". */
export class AgentRunQueryService {
  private readonly runs: AgentRunRepository;
  private readonly steps: AgentRunStepRepository;
  private readonly costs: CostLogRepository;
  private readonly tree: AgentRunTreeRepository;
  private readonly approvals: AgentRunApprovalRepository;

  constructor(opts: { db: Knex }) {
    this.tree = new AgentRunTreeRepository(opts.db);
    this.approvals = new AgentRunApprovalRepository(opts.db);
    this.runs = new AgentRunRepository(opts.db);
    this.steps = new AgentRunStepRepository(opts.db);
    this.costs = new CostLogRepository(opts.db);
  }

  async list(workspaceId: string, q: RunListQuery, after?: Keyset): Promise<KeysetPage<RunView>> {
    const rows = await this.runs.list(workspaceId, {
      status: q.status,
      agent: q.agent,
      from: q.from,
      to: q.to,
      after,
      take: q.limit + 1,
    });
    return keysetPage(rows, q.limit, toRunView, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
  }

  async find(workspaceId: string, id: string): Promise<RunView | undefined> {
    const row = await this.runs.find(workspaceId, id);
    return row ? toRunView(row) : undefined;
  }

  async detail(workspaceId: string, id: string): Promise<RunDetailView | undefined> {
    const run = await this.find(workspaceId, id);
    if (!run) return undefined;
    const [steps, costs, children, approvals] = await Promise.all([
      this.steps.listForRun(workspaceId, id),
      this.costs.listForRun(workspaceId, id),
      this.tree.children(workspaceId, id),
      this.approvals.forRun(workspaceId, id),
    ]);
    return {
      ...run,
      steps: steps.map(toStepView),
      costs: costs.map(toCostView),
      children: children.map(toChildView),
      approvals: approvals.map(toApprovalView),
    };
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
    const { groups, totals } = await this.runs.stats(workspaceId, from.toISOString(), to.toISOString());

    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    const byAgent = new Map<string, AgentStats>();
    const entry = (agent: string): AgentStats => {
      const a = byAgent.get(agent) ?? {
        agent,
        total: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        cost_usd: 0,
        last_run: null,
      };
      byAgent.set(agent, a);
      return a;
    };
    for (const g of groups) {
      byStatus[g.status] += g.n;
      const a = entry(g.agent_key);
      a.total += g.n;
      a.cost_usd = decimalToNumber(g.agent_cost);
      if (g.status === 'completed' || g.status === 'failed' || g.status === 'cancelled') a[g.status] += g.n;
    }
    // Every Lord of the workspace is listed, zeros included, each with its newest run at any time: the
    // dashboard shows a Lord that last ran before the window (or never) as well as a busy one.
    for (const last of await this.runs.lastRuns(workspaceId, [...byAgent.keys()]))
      entry(last.agent_key).last_run =
        last.id && last.status && last.created_at
          ? { id: last.id, status: last.status, created_at: last.created_at.toISOString() }
          : null;
    const round = (v: number | null) => (v === null ? null : Math.round(Number(v)));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      total: STATUSES.reduce((n, s) => n + byStatus[s], 0),
      by_status: byStatus,
      by_agent: [...byAgent.values()].sort((x, y) => y.total - x.total || x.agent.localeCompare(y.agent)),
      duration_ms: { p50: round(totals?.p50 ?? null), p95: round(totals?.p95 ?? null) },
      cost_usd: {
        total: decimalToNumber(totals?.cost),
        // A 10-place rounded average, not a sum: converted as it is (9-place truncation would change it).
        per_run_avg: totals?.avg === null || totals?.avg === undefined ? null : Number(totals.avg),
      },
    };
  }
}
