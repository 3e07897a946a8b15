import type { Knex } from 'knex';
import { runPrepared } from '@raptorflow/core/db/prepared';
import { STEP_VIEW_COLUMNS } from './agent-run.rows';
import type { AgentRunStepRow, RunError, StepViewRow } from './agent-run.rows';
import type { LeaseHold } from './agent-run.repository';
import type { AuditLogInsert } from './audit-log.repository';
import { BEGIN_STATEMENT, COMPLETE_STATEMENT, FAIL_STATEMENT } from './agent-run-step.statements';

/** A run's cost-row sums, as CostLogRepository.runTotals reads them (cost as exact decimal text). */
export interface RunTotals {
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
}

/** How a step's begin went: it had completed already (its stored output), or it runs now (its row). */
export type StepBegin<T> =
  | { kind: 'stored'; output: T }
  | {
      kind: 'started';
      position: number;
      attempts: number;
      nextPosition: number;
      eventId: number;
      /** The run's totals as the step began. */
      runTotals: RunTotals;
    };

/**
 * What rides with a step's end in the same statement: the `step.completed`/`step.failed` event's data (the
 * run's cost so far is added to a completion's by the statement) and the tool-call audit rows of the step's
 * last calls (written whether or not the step write is fenced off: the calls happened). Audit rows with an
 * event id are not accepted here (they need the repository's conflict rule).
 */
export interface StepEndRecord {
  workspaceId: string;
  event: Record<string, unknown>;
  audit: AuditLogInsert[];
}

/**
 * All SQL of `agent_run_steps`: the runner's step bookkeeping (its statements composed in
 * agent-run-step.statements.ts) and the gateway's run detail.
 */
export class AgentRunStepRepository {
  constructor(private readonly db: Knex) {}

  /**
   * One round trip at a step's start: a step that completed already returns its stored output (nothing
   * written); otherwise the step row is started (or restarted: one more attempt) under the fence, at
   * `position` or, when undefined, after the run's last step, and its `step.started` event appended with it.
   * Undefined when `hold` is no longer the run's claim (nothing written).
   */
  async begin<T>(
    hold: LeaseHold,
    s: { workspace_id: string; key: string; position: number | undefined },
  ): Promise<StepBegin<T> | undefined> {
    const { rows } = await runPrepared<{
      completed: boolean;
      output: T;
      next_position: number;
      position: number | null;
      attempts: number | null;
      event_id: string | null;
      run_input_tokens: string | null;
      run_output_tokens: string | null;
      run_cost_usd: string | null;
    }>(this.db, BEGIN_STATEMENT, [hold.id, s.key, s.workspace_id, s.position ?? null, hold.attempts]);
    const r = rows[0]!;
    if (r.completed) return { kind: 'stored', output: r.output };
    if (r.position === null || r.attempts === null || r.event_id === null) return undefined;
    return {
      kind: 'started',
      position: r.position,
      attempts: r.attempts,
      nextPosition: r.next_position,
      eventId: Number(r.event_id),
      runTotals: {
        inputTokens: Number(r.run_input_tokens ?? 0),
        outputTokens: Number(r.run_output_tokens ?? 0),
        costUsd: r.run_cost_usd ?? '0',
      },
    };
  }

  /**
   * Stores the step's output; false when `hold` is no longer the run's claim (the step row and event are not
   * written then; `end`'s audit rows are). In the same statement: `end`'s audit rows, and when the step row
   * was written, its `step.completed` event with the run's cost so far (`run_cost_usd`, the exact SUM of the
   * run's cost rows, which include its failed and cancelled calls).
   */
  async complete(
    hold: LeaseHold,
    key: string,
    s: Pick<AgentRunStepRow, 'output' | 'model' | 'input_tokens' | 'output_tokens' | 'cost_usd'>,
    end: StepEndRecord,
  ): Promise<boolean> {
    const { rows } = await runPrepared<{ stored: boolean }>(this.db, COMPLETE_STATEMENT, [
      hold.id,
      key,
      hold.attempts,
      JSON.stringify(s.output ?? null),
      s.model,
      s.input_tokens,
      s.output_tokens,
      s.cost_usd,
      end.workspaceId,
      JSON.stringify(end.event),
      auditRecords(end.audit),
    ]);
    return rows[0]!.stored;
  }

  /**
   * Marks the step failed; false when `hold` is no longer the run's claim (step row untouched). In the same
   * statement: `end`'s audit rows and its `step.failed` event, both written either way (as a failure is
   * reported even by an attempt that lost its lease to a cancel or a stall).
   */
  async fail(hold: LeaseHold, key: string, error: RunError, end: StepEndRecord): Promise<boolean> {
    const { rows } = await runPrepared<{ failed: boolean }>(this.db, FAIL_STATEMENT, [
      hold.id,
      key,
      hold.attempts,
      JSON.stringify(error),
      end.workspaceId,
      JSON.stringify(end.event),
      auditRecords(end.audit),
    ]);
    return rows[0]!.failed;
  }

  async listForRun(workspaceId: string, runId: string): Promise<StepViewRow[]> {
    return this.db('agent_run_steps')
      .where({ run_id: runId, workspace_id: workspaceId })
      .orderBy([{ column: 'position' }, { column: 'started_at' }])
      .select<StepViewRow[]>(...STEP_VIEW_COLUMNS);
  }
}

/** The audit rows as the JSON array the statements unpack (jsonb_to_recordset). */
function auditRecords(rows: AuditLogInsert[]): string {
  for (const r of rows)
    if (r.event_id) throw new Error('an audit row with an event id needs AuditLogRepository.insert');
  return JSON.stringify(rows);
}
