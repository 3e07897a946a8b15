import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { RUN_VIEW_COLUMNS } from './agent-run.rows';
import type { AgentRunRow, RunError, RunStatus, RunViewRow } from './agent-run.rows';
import { orderByKeyset } from './keyset';

export type Queryable = Knex | Knex.Transaction;

/** `now() + <ms>`, in SQL: lease ends are read from the database clock, never a runner's. */
const leaseUntil = (db: Queryable, ms: number) =>
  db.raw(`now() + make_interval(secs => ?::double precision / 1000)`, [ms]);

/**
 * Every lease renewal (a third of a lease, per running run): $1 run, $2 owner, $3 lease ms, $4 the claim's
 * fencing token (`attempts` at the claim): a lease the sweeper took away and a later claim re-took is not
 * renewed by its old holder, even in the same process.
 */
const RENEW_STATEMENT = {
  name: 'raptorflow_run_lease_renew_v2',
  text: `UPDATE agent_runs
            SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000), heartbeat_at = now()
          WHERE id = $1 AND lease_owner = $2 AND attempts = $4 AND status = 'running'
      RETURNING cancel_requested_at`,
};

/** A claim of a run: its id and the fencing token (`attempts` after the claim) that the claim's writes carry. */
export interface LeaseHold {
  id: string;
  attempts: number;
}

// A runner that stamped completed_at but not duration_ms still has a measurable duration.
const DURATION = `COALESCE(duration_ms, (EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000)::int)`;

export interface RunListFilter {
  status?: RunStatus;
  agent?: string;
  from?: string;
  to?: string;
  /** Keyset: rows strictly before (created_at, id). */
  after?: { t: string; id: string };
  take: number;
}

export interface RunEnd {
  status: 'completed' | 'failed' | 'cancelled';
  output?: unknown;
  error?: RunError;
  inputTokens: number;
  outputTokens: number;
  /** Exact decimal string (the SUM of the run's cost rows, and of its children's totals). */
  costUsd: string;
  /** The children's part of `costUsd` (a campaign's), so statistics count a tree's spend once. */
  childrenCostUsd?: string;
}

/**
 * All SQL of `agent_runs`: the request and cancel (gateway), history and stats (gateway), the claim, lease,
 * finish and ghost sweep (agent-runner). Methods that are part of a caller's atomic step take its
 * transaction; the rest run on the pool.
 */
export class AgentRunRepository {
  constructor(private readonly db: Knex) {}

  async insertQueued(
    trx: Knex.Transaction,
    r: Pick<AgentRunRow, 'workspace_id' | 'agent_id' | 'agent_key' | 'flow' | 'model' | 'input'> &
      Pick<AgentRunRow, 'requested_by' | 'correlation_id'>,
  ): Promise<string> {
    const [run] = await trx('agent_runs')
      .insert({ ...r, status: 'queued', input: JSON.stringify(r.input) })
      .returning<Array<{ id: string }>>('id');
    if (!run) throw new Error('agent_runs insert returned no row');
    return run.id;
  }

  /** Locks the run for a cancel and returns its status (undefined: not in this workspace). */
  async lockStatus(trx: Knex.Transaction, workspaceId: string, id: string): Promise<RunStatus | undefined> {
    const row = await trx('agent_runs')
      .where({ id, workspace_id: workspaceId })
      .forUpdate()
      .first<{ status: RunStatus } | undefined>('status');
    return row?.status;
  }

  async cancelQueued(trx: Knex.Transaction, id: string, error: RunError): Promise<RunViewRow> {
    const [row] = await trx('agent_runs')
      .where({ id })
      .update({
        status: 'cancelled',
        completed_at: trx.fn.now(),
        updated_at: trx.fn.now(),
        error: JSON.stringify(error),
      })
      .returning<RunViewRow[]>([...RUN_VIEW_COLUMNS]);
    return row!;
  }

  /** Idempotent: the first request's time stays. */
  async requestCancel(trx: Knex.Transaction, id: string): Promise<void> {
    await trx('agent_runs')
      .where({ id })
      .whereNull('cancel_requested_at')
      .update({ cancel_requested_at: trx.fn.now(), updated_at: trx.fn.now() });
  }

  async list(workspaceId: string, f: RunListFilter): Promise<RunViewRow[]> {
    const query = this.db('agent_runs')
      .where({ workspace_id: workspaceId })
      .select<RunViewRow[]>(...RUN_VIEW_COLUMNS)
      .limit(f.take);
    orderByKeyset(query, 'desc', f.after);
    if (f.status) query.andWhere('status', f.status);
    if (f.agent) query.andWhere('agent_key', f.agent);
    if (f.from) query.andWhere('created_at', '>=', f.from);
    if (f.to) query.andWhere('created_at', '<', f.to);
    return query;
  }

  async find(workspaceId: string, id: string): Promise<RunViewRow | undefined> {
    return this.db('agent_runs')
      .where({ id, workspace_id: workspaceId })
      .first<RunViewRow | undefined>(...RUN_VIEW_COLUMNS);
  }

  /**
   * Runs created in [from, to): counts by agent and status, each agent's spend over all its statuses
   * (`agent_cost`, exact text, summed in SQL so no decimal place is lost), completed durations, spend.
   */
  async stats(workspaceId: string, from: string, to: string) {
    const scope = (qb: Knex.QueryBuilder) =>
      qb.where('workspace_id', workspaceId).where('created_at', '>=', from).where('created_at', '<', to);
    const [groups, [totals]] = await Promise.all([
      scope(this.db('agent_runs'))
        .groupBy('agent_key', 'status')
        .select<Array<{ agent_key: string; status: RunStatus; n: number; agent_cost: string }>>(
          'agent_key',
          'status',
          this.db.raw('count(*)::int AS n'),
          // A parent's cost includes its children's: each call is counted once, at the run that made it.
          this.db.raw(
            '(sum(sum(cost_usd - children_cost_usd)) OVER (PARTITION BY agent_key))::text AS agent_cost',
          ),
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
        this.db.raw('sum(cost_usd - children_cost_usd)::text AS cost'),
        this.db.raw('round(avg(cost_usd - children_cost_usd), 10)::text AS avg'),
      ),
    ]);
    return { groups, totals };
  }

  /**
   * The newest run, at any time, of each of the workspace's agents and of each of `keys` (agents that ran
   * but have no agents row yet): one index probe per key on (workspace_id, agent_key, created_at).
   */
  async lastRuns(
    workspaceId: string,
    keys: readonly string[],
  ): Promise<
    Array<{ agent_key: string; id: string | null; status: RunStatus | null; created_at: Date | null }>
  > {
    const { rows } = await this.db.raw(
      `SELECT k.agent_key, r.id, r.status, r.created_at
         FROM (SELECT key AS agent_key FROM agents WHERE workspace_id = ?
               UNION SELECT unnest(?::text[])) AS k
         LEFT JOIN LATERAL (
           SELECT id, status, created_at FROM agent_runs
            WHERE workspace_id = ? AND agent_key = k.agent_key
            ORDER BY created_at DESC, id DESC
            LIMIT 1
         ) AS r ON true`,
      [workspaceId, [...keys], workspaceId],
    );
    return rows;
  }

  /** For open streams: each run's status and newest event id, one query for all of them. */
  async progress(
    ids: string[],
  ): Promise<Array<{ id: string; status: RunStatus; last_event_id: string | number | null }>> {
    return this.db('agent_runs as r')
      .whereRaw('r.id = ANY(?::uuid[])', [ids])
      .select(
        'r.id',
        'r.status',
        this.db.raw('(SELECT max(e.id) FROM agent_run_events e WHERE e.run_id = r.id) AS last_event_id'),
      );
  }

  async workspaceOf(trx: Knex.Transaction, id: string): Promise<string | undefined> {
    const row = await trx('agent_runs')
      .where({ id })
      .first<{ workspace_id: string } | undefined>('workspace_id');
    return row?.workspace_id;
  }

  /** Serialises claims within one workspace (its concurrency cap), until the transaction ends. */
  async lockWorkspaceClaims(trx: Knex.Transaction, workspaceId: string): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`agent-runs:${workspaceId}`]);
  }

  async lockForClaim(
    trx: Knex.Transaction,
    id: string,
  ): Promise<(AgentRunRow & { lease_live: boolean; lease_left_ms: number }) | undefined> {
    return trx('agent_runs')
      .where({ id })
      .forUpdate()
      .first(
        '*',
        trx.raw('COALESCE(lease_expires_at > now(), false) AS lease_live'),
        trx.raw('GREATEST(0, EXTRACT(EPOCH FROM (lease_expires_at - now())) * 1000)::int AS lease_left_ms'),
      );
  }

  /** The workspace's runs holding a live lease, this one aside. */
  async countLiveRunning(trx: Knex.Transaction, workspaceId: string, exceptId: string): Promise<number> {
    const row = await trx('agent_runs')
      .where({ workspace_id: workspaceId, status: 'running' })
      .whereNot({ id: exceptId })
      .where('lease_expires_at', '>', trx.fn.now())
      .count<{ n: string }>('* as n')
      .first();
    return Number(row?.n ?? 0);
  }

  async markClaimed(
    trx: Knex.Transaction,
    id: string,
    c: { agentId: string; owner: string; leaseMs: number },
  ): Promise<AgentRunRow> {
    const [claimed] = await trx('agent_runs')
      .where({ id })
      .update({
        status: 'running',
        agent_id: c.agentId,
        lease_owner: c.owner,
        lease_expires_at: leaseUntil(trx, c.leaseMs),
        heartbeat_at: trx.fn.now(),
        // The clock after the workspace lock and slot count, not the transaction's start (`now()`): a claim that
        // waited for a slot starts after the run it replaced was stamped complete, so start/end times never
        // show more runs at once than the cap let through.
        started_at: trx.raw('COALESCE(started_at, clock_timestamp())'),
        attempts: trx.raw('attempts + 1'),
        // Time waited for an approval or for children: not counted by the run's timeout.
        paused_ms: trx.raw(
          'paused_ms + COALESCE((EXTRACT(EPOCH FROM (now() - paused_at)) * 1000)::bigint, 0)',
        ),
        paused_at: null,
        updated_at: trx.fn.now(),
      })
      .returning<AgentRunRow[]>('*');
    return claimed!;
  }

  async renew(
    hold: LeaseHold,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    const { rows } = await runPrepared<{ cancel_requested_at: Date | null }>(this.db, RENEW_STATEMENT, [
      hold.id,
      owner,
      leaseMs,
      hold.attempts,
    ]);
    return { held: rows.length > 0, cancelRequested: !!rows[0]?.cancel_requested_at };
  }

  async release(hold: LeaseHold, owner: string): Promise<void> {
    await this.db('agent_runs')
      .where({ id: hold.id, lease_owner: owner, attempts: hold.attempts })
      .update({ lease_expires_at: this.db.fn.now(), lease_owner: null });
  }

  /** Locks the run if `owner` still holds it running under this claim. */
  async lockHeld(trx: Knex.Transaction, hold: LeaseHold, owner: string): Promise<boolean> {
    const held = await trx('agent_runs')
      .where({ id: hold.id, lease_owner: owner, attempts: hold.attempts, status: 'running' })
      .forUpdate()
      .first('id');
    return held !== undefined;
  }

  async finish(
    trx: Knex.Transaction,
    id: string,
    end: RunEnd,
  ): Promise<{ cost_usd: string; duration_ms: number }> {
    const [done] = await trx('agent_runs')
      .where({ id })
      .update({
        status: end.status,
        output: end.output === undefined ? null : JSON.stringify(end.output),
        error: end.error ? JSON.stringify(end.error) : null,
        input_tokens: end.inputTokens,
        output_tokens: end.outputTokens,
        cost_usd: end.costUsd,
        children_cost_usd: end.childrenCostUsd ?? '0',
        paused_at: null,
        completed_at: trx.fn.now(),
        duration_ms: trx.raw('(EXTRACT(EPOCH FROM (now() - COALESCE(started_at, now()))) * 1000)::int'),
        lease_owner: null,
        lease_expires_at: null,
        updated_at: trx.fn.now(),
      })
      .returning<Array<{ cost_usd: string; duration_ms: number }>>(['cost_usd', 'duration_ms']);
    return done!;
  }

  /**
   * The run's agent if its workspace has it now, and how long the run has waited (database clock). Measured at
   * the transaction's start (`now()`), the instant its status event and completion time are stamped with, so a
   * run failed for waiting too long never shows a shorter wait than the bound.
   */
  async agentAndWait(
    trx: Knex.Transaction,
    id: string,
  ): Promise<{ agent_id: string | null; waited_ms: string | number } | undefined> {
    const { rows } = await trx.raw<{ rows: Array<{ agent_id: string | null; waited_ms: string }> }>(
      `SELECT a.id AS agent_id,
              (EXTRACT(EPOCH FROM (now() - r.created_at)) * 1000)::bigint AS waited_ms
         FROM agent_runs r
         LEFT JOIN agents a ON a.workspace_id = r.workspace_id AND a.key = r.agent_key
        WHERE r.id = ?`,
      [id],
    );
    return rows[0];
  }

  /**
   * Marks running runs whose lease ran out a lease period ago and that nobody swept for two, returning them.
   * heartbeat_at doubles as "last swept": a requeued run is left alone for two lease periods.
   */
  async markGhosts(
    trx: Knex.Transaction,
    leaseMs: number,
  ): Promise<Array<Pick<AgentRunRow, 'id' | 'workspace_id' | 'agent_key' | 'correlation_id'>>> {
    return trx('agent_runs')
      .where({ status: 'running' })
      .where(
        'lease_expires_at',
        '<',
        trx.raw(`now() - make_interval(secs => ?::double precision / 1000)`, [leaseMs]),
      )
      .where(
        'heartbeat_at',
        '<',
        trx.raw(`now() - make_interval(secs => ?::double precision / 500)`, [leaseMs]),
      )
      .update({ heartbeat_at: trx.fn.now(), lease_owner: null })
      .returning(['id', 'workspace_id', 'agent_key', 'correlation_id']);
  }

  /** Deletes LangGraph checkpoints of runs finished more than `hours` ago (their threads are run ids). */
  async pruneCheckpoints(hours: number): Promise<number> {
    const finished = this.db('agent_runs')
      .select(this.db.raw('id::text'))
      .whereIn('status', ['completed', 'failed', 'cancelled'])
      .where('completed_at', '<', this.db.raw(`now() - make_interval(hours => ?)`, [hours]));
    let pruned = 0;
    for (const table of ['checkpoint_writes', 'checkpoint_blobs', 'checkpoints'])
      pruned += await this.db(`langgraph.${table}`).whereIn('thread_id', finished.clone()).del();
    return pruned;
  }
}
