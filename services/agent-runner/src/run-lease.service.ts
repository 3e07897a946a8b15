import type { Knex } from 'knex';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { getDatabase } from '@raptorflow/core/db/database';
import { getSettings } from '@raptorflow/core/config/settings';
import type { AgentRun } from '@raptorflow/data/models/agent.model';
import { RunAgentResolver } from './run-agent-resolver.service';

export type ClaimResult =
  | { kind: 'claimed'; run: AgentRun; resumed: boolean }
  /** Finished, cancelled before it started, or unknown: nothing to do. */
  | { kind: 'done' }
  /** Another live runner holds it: try again once its lease could have run out. */
  | { kind: 'held'; retryInMs: number }
  /** The workspace is at its concurrency cap: wait for a slot. */
  | { kind: 'wait' }
  /** The run's agent is not seeded yet: it stays queued; look again in `retryInMs`. */
  | { kind: 'unseeded'; retryInMs: number }
  /** Ended here without starting (its agent never appeared). */
  | { kind: 'failed'; error: { code: string; message: string } };

export interface RunLeaseOptions {
  db?: Knex;
  events?: RunEventLog;
  /** This process's identity on leases (host:pid:random). */
  owner: string;
  leaseMs?: number;
  workspaceConcurrency?: number;
  /** Finds the agent of a run asked for before its workspace was seeded. */
  agents?: RunAgentResolver;
}

/**
 * Who runs a run, and when. A claim is one transaction under a per-workspace advisory lock, so two runners
 * can neither hold the same run nor both take a workspace's last free slot. The lease is renewed while the
 * run executes; a runner that dies simply stops renewing, and the run is claimable again once it expires.
 */
export class RunLeaseService {
  private readonly db: Knex;
  private readonly events: RunEventLog;
  readonly owner: string;
  readonly leaseMs: number;
  private readonly cap: number;
  private readonly agents: RunAgentResolver;

  constructor(opts: RunLeaseOptions) {
    const s = getSettings().agentRuns;
    this.db = opts.db ?? getDatabase();
    this.events = opts.events ?? new RunEventLog({ db: this.db });
    this.owner = opts.owner;
    this.leaseMs = opts.leaseMs ?? s.leaseMs;
    this.cap = opts.workspaceConcurrency ?? s.workspaceConcurrency;
    this.agents = opts.agents ?? new RunAgentResolver();
  }

  async claim(runId: string): Promise<ClaimResult> {
    return this.db.transaction(async (trx) => {
      const head = await trx('agent_runs')
        .where({ id: runId })
        .first<{ workspace_id: string } | undefined>('workspace_id');
      if (!head) return { kind: 'done' };
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`agent-runs:${head.workspace_id}`]);
      const run = await trx('agent_runs')
        .where({ id: runId })
        .forUpdate()
        .first<(AgentRun & { lease_live: boolean; lease_left_ms: number }) | undefined>(
          '*',
          trx.raw('COALESCE(lease_expires_at > now(), false) AS lease_live'),
          trx.raw('GREATEST(0, EXTRACT(EPOCH FROM (lease_expires_at - now())) * 1000)::int AS lease_left_ms'),
        );
      if (!run || !['queued', 'running'].includes(run.status)) return { kind: 'done' };
      if (run.status === 'queued' && run.cancel_requested_at) {
        await this.finishIn(trx, run, 'cancelled', {
          error: { code: 'cancelled', message: 'Cancelled before it started' },
        });
        return { kind: 'done' };
      }
      if (run.status === 'running' && run.lease_live && run.lease_owner !== this.owner)
        return { kind: 'held', retryInMs: run.lease_left_ms + 1_000 };
      // A run asked for before its workspace was seeded gets its agent now, in the transaction that starts it.
      let agentId = run.agent_id;
      if (!agentId) {
        const found = await this.agents.resolve(trx, run);
        if (found.kind === 'waiting') return { kind: 'unseeded', retryInMs: found.retryInMs };
        if (found.kind === 'never_seeded') {
          await this.finishIn(trx, run, 'failed', { error: found.error });
          return { kind: 'failed', error: found.error };
        }
        agentId = found.agentId;
      }
      const { n } = (await trx('agent_runs')
        .where({ workspace_id: run.workspace_id, status: 'running' })
        .whereNot({ id: runId })
        .where('lease_expires_at', '>', trx.fn.now())
        .count<{ n: string }>('* as n')
        .first())!;
      if (Number(n) >= this.cap) return { kind: 'wait' };
      const resumed = run.status === 'running';
      const [claimed] = await trx('agent_runs')
        .where({ id: runId })
        .update({
          status: 'running',
          agent_id: agentId,
          lease_owner: this.owner,
          lease_expires_at: this.leaseUntil(trx),
          heartbeat_at: trx.fn.now(),
          started_at: trx.raw('COALESCE(started_at, now())'),
          attempts: trx.raw('attempts + 1'),
          updated_at: trx.fn.now(),
        })
        .returning<AgentRun[]>('*');
      await this.events.append(
        run,
        'status',
        { status: 'running', resumed, attempt: claimed!.attempts },
        trx,
      );
      return { kind: 'claimed', run: claimed!, resumed };
    });
  }

  /**
   * Extends the lease; returns false when it is no longer ours (expired and taken), and whether a cancel was
   * requested (the Redis cancel message may have been missed; this is the backstop).
   */
  async renew(runId: string): Promise<{ held: boolean; cancelRequested: boolean }> {
    const rows = await this.db('agent_runs')
      .where({ id: runId, lease_owner: this.owner, status: 'running' })
      .update({ lease_expires_at: this.leaseUntil(this.db), heartbeat_at: this.db.fn.now() })
      .returning<Array<{ cancel_requested_at: Date | null }>>('cancel_requested_at');
    return { held: rows.length > 0, cancelRequested: !!rows[0]?.cancel_requested_at };
  }

  /** Gives the run up without finishing it (infrastructure failure): another attempt can claim it at once. */
  async release(runId: string): Promise<void> {
    await this.db('agent_runs')
      .where({ id: runId, lease_owner: this.owner })
      .update({ lease_expires_at: this.db.fn.now(), lease_owner: null });
  }

  /** Ends a run we hold. Totals come from its cost rows, so calls of failed or cancelled steps count too. */
  async finish(
    run: AgentRun,
    status: 'completed' | 'failed' | 'cancelled',
    extra: { output?: unknown; error?: { code: string; message: string } },
  ): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const held = await trx('agent_runs')
        .where({ id: run.id, lease_owner: this.owner, status: 'running' })
        .forUpdate()
        .first('id');
      if (!held) return false;
      await this.finishIn(trx, run, status, extra);
      return true;
    });
  }

  private async finishIn(
    trx: Knex.Transaction,
    run: AgentRun,
    status: 'completed' | 'failed' | 'cancelled',
    extra: { output?: unknown; error?: { code: string; message: string } },
  ): Promise<void> {
    const [totals] = await trx('cost_logs')
      .where({ agent_run_id: run.id })
      .select<Array<{ input: string | null; output: string | null; cost: string | null }>>(
        trx.raw('SUM(input_tokens + cached_input_tokens + cache_write_tokens) AS input'),
        trx.raw('SUM(output_tokens + thinking_tokens) AS output'),
        trx.raw('SUM(cost_usd)::text AS cost'),
      );
    const [done] = await trx('agent_runs')
      .where({ id: run.id })
      .update({
        status,
        output: extra.output === undefined ? null : JSON.stringify(extra.output),
        error: extra.error ? JSON.stringify(extra.error) : null,
        input_tokens: Number(totals?.input ?? 0),
        output_tokens: Number(totals?.output ?? 0),
        cost_usd: totals?.cost ?? '0',
        completed_at: trx.fn.now(),
        duration_ms: trx.raw('(EXTRACT(EPOCH FROM (now() - COALESCE(started_at, now()))) * 1000)::int'),
        lease_owner: null,
        lease_expires_at: null,
        updated_at: trx.fn.now(),
      })
      .returning<Array<{ cost_usd: string; duration_ms: number }>>(['cost_usd', 'duration_ms']);
    await this.events.append(
      run,
      'status',
      {
        status,
        cost_usd: Number(done!.cost_usd),
        duration_ms: done!.duration_ms,
        ...(extra.error ? { error: extra.error } : {}),
      },
      trx,
    );
  }

  private leaseUntil(db: Knex | Knex.Transaction) {
    return db.raw(`now() + make_interval(secs => ?::double precision / 1000)`, [this.leaseMs]);
  }
}
