import type { Knex } from 'knex';
import { eventually } from './http';

/**
 * What "done exactly once" means after an outage, read from the database: per workspace its Lords and
 * `workspace.created` events, per run its status, steps, status events and cost, per workspace-month the
 * rollups, folds and budget counters against the cost rows.
 */
export interface WorkspaceFacts {
  id: string;
  lords: number;
  created_events: number;
}

export async function workspaceFacts(db: Knex, ownerId: string): Promise<WorkspaceFacts[]> {
  const { rows } = await db.raw(
    `SELECT w.id,
            (SELECT count(*)::int FROM agents a WHERE a.workspace_id = w.id) AS lords,
            (SELECT count(*)::int FROM event_outbox e
              WHERE e.workspace_id = w.id AND e.event_type = 'workspace.created') AS created_events
       FROM workspaces w WHERE w.created_by = ? ORDER BY w.id`,
    [ownerId],
  );
  return rows;
}

export interface RunFacts {
  id: string;
  status: string;
  step_keys: string[];
  steps_not_completed: number;
  /** `status` events saying completed: a run completed twice would have two. */
  completed_events: number;
  /** What the run says it cost, what its steps say, and what its cost rows add up to (exact decimals). */
  run_cost: string | null;
  steps_cost: string;
  cost_rows_cost: string;
  /**
   * Steps begun more than once. A step whose end could not be written (the database went away after its
   * model call) runs again: each call keeps its cost row, the step's cost is that of the attempt that ended.
   */
  steps_rerun: number;
}

export async function runFacts(db: Knex, runIds: string[]): Promise<RunFacts[]> {
  const { rows } = await db.raw(
    `SELECT r.id, r.status,
            COALESCE((SELECT array_agg(s.key ORDER BY s.position) FROM agent_run_steps s WHERE s.run_id = r.id),
                     '{}') AS step_keys,
            (SELECT count(*)::int FROM agent_run_steps s WHERE s.run_id = r.id AND s.status <> 'completed')
              AS steps_not_completed,
            (SELECT count(*)::int FROM agent_run_events e
              WHERE e.run_id = r.id AND e.type = 'status' AND e.data->>'status' = 'completed') AS completed_events,
            r.cost_usd::text AS run_cost,
            (SELECT COALESCE(sum(s.cost_usd), 0)::text FROM agent_run_steps s WHERE s.run_id = r.id) AS steps_cost,
            (SELECT COALESCE(sum(c.cost_usd), 0)::text FROM cost_logs c WHERE c.agent_run_id = r.id)
              AS cost_rows_cost,
            (SELECT count(*)::int FROM agent_run_steps s WHERE s.run_id = r.id AND s.attempts > 1) AS steps_rerun
       FROM agent_runs r WHERE r.id = ANY(?) ORDER BY r.id`,
    [runIds],
  );
  return rows;
}

/** Cost rows of the workspaces and how many of them are folded (the ledger is done when both agree). */
export async function foldProgress(
  db: Knex,
  workspaceIds: string[],
): Promise<{ rows: number; folded: number }> {
  const { rows } = await db.raw(
    `SELECT (SELECT count(*)::int FROM cost_logs WHERE workspace_id = ANY(:ws)) AS rows,
            (SELECT count(*)::int FROM cost_rollup_folds WHERE workspace_id = ANY(:ws)) AS folded`,
    { ws: workspaceIds },
  );
  return rows[0];
}

/** Budget counters that disagree with the cost rows, and reservations still holding money. */
export async function budgetLeftovers(db: Knex, workspaceIds: string[]) {
  const { rows: active } = await db.raw(
    `SELECT id, workspace_id, status FROM budget_reservations WHERE workspace_id = ANY(?) AND status = 'active'`,
    [workspaceIds],
  );
  const { rows: usage } = await db.raw(
    `SELECT u.workspace_id, u.month::text, u.spent_usd::text AS spent, u.reserved_usd::text AS reserved,
            COALESCE(c.sum, 0)::text AS cost_rows
       FROM budget_usage u
       LEFT JOIN (SELECT workspace_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month,
                         sum(cost_usd) AS sum
                    FROM cost_logs WHERE outcome = 'success' GROUP BY 1, 2) c
         ON c.workspace_id = u.workspace_id AND c.month = u.month
      WHERE u.workspace_id = ANY(?) AND (u.reserved_usd <> 0 OR u.spent_usd <> COALESCE(c.sum, 0))`,
    [workspaceIds],
  );
  return { activeReservations: active, usageMismatches: usage };
}

/**
 * Waits until every workspace of `ownerId` has its seven Lords (seeding catches up after a fault); fails
 * with how many are still unseeded and `tails()` (the services' last output).
 */
export async function seededWorkspaceFacts(
  db: Knex,
  ownerId: string,
  tails: () => string,
): Promise<WorkspaceFacts[]> {
  return eventually(
    async () => {
      const f = await workspaceFacts(db, ownerId);
      return f.every((w) => w.lords === 7) ? f : undefined;
    },
    90_000,
    250,
  ).catch(async (err: Error) => {
    const f = await workspaceFacts(db, ownerId);
    throw new Error(`${err.message}: ${f.filter((w) => w.lords !== 7).length} unseeded\n${tails()}`);
  });
}

/** Waits until every run of `runIds` has ended; fails with the ones that did not complete and `tails()`. */
export async function endedRunFacts(db: Knex, runIds: string[], tails: () => string): Promise<RunFacts[]> {
  return eventually(
    async () => {
      const r = await runFacts(db, runIds);
      return r.length === runIds.length && r.every((x) => ['completed', 'failed'].includes(x.status))
        ? r
        : undefined;
    },
    180_000,
    500,
  ).catch(async (err: Error) => {
    const r = await runFacts(db, runIds);
    throw new Error(
      `${err.message}: ${JSON.stringify(r.filter((x) => x.status !== 'completed'))}\n${tails()}`,
    );
  });
}
