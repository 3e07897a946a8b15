import { isAppError } from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { nanoToDecimal, nanoToNumber } from '@raptorflow/core/money/money';
import type { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { AuditLogInsert, AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { LeaseLostError } from './run-lease.service';
import type { StepStart } from './step-starts';

/** What one step has spent so far; cost in nano-USD, so a step of many calls sums exactly. */
export interface Spent {
  input: number;
  output: number;
  costNano: bigint;
  model: string | null;
  /** The text of the step's last accepted answer, stored in its step.completed event. */
  text: string | null;
}

/** What a step's end writes from: its spend, the audit rows it still holds, and how it started. */
export interface EndingStep {
  spent: Spent;
  audit: AuditLogInsert[];
  start: Extract<StepStart<unknown>, { kind: 'running' }>;
}

export interface StepEndsOptions {
  steps: AgentRunStepRepository;
  /** Where audit rows a step could not carry in its own statements are written. */
  audit: AuditLogRepository;
  events: Pick<RunEventLog, 'announce'>;
  run: AgentRunRow;
}

/** How the steps of one claim of a run end: completed (one round trip) or failed. */
export class StepEnds {
  constructor(private readonly o: StepEndsOptions) {}

  /**
   * One round trip: step row, its audit rows, and its step.completed event with the run's cost so far.
   * Rejects with LeaseLostError when the claim is no longer the run's (nothing of the step written).
   */
  async complete<T>(key: string, output: T, step: EndingStep): Promise<void> {
    const { steps, run, events } = this.o;
    const { spent, audit, start } = step;
    try {
      // The step's row was written meanwhile (or a lost claim or the database refused it: thrown here).
      const { position } = await start.started;
      const stored = await steps.complete(
        run,
        key,
        {
          output,
          model: spent.model,
          input_tokens: spent.input,
          output_tokens: spent.output,
          cost_usd: nanoToDecimal(spent.costNano),
        },
        {
          workspaceId: run.workspace_id,
          event: {
            step: key,
            position,
            cost_usd: nanoToNumber(spent.costNano),
            // What the live stream showed as step.delta, whole: a replay shows this instead of the deltas.
            ...(spent.text === null ? {} : { text: spent.text }),
          },
          audit,
        },
      );
      audit.length = 0;
      if (!stored) throw new LeaseLostError(run.id);
      events.announce(run.id);
    } catch (err) {
      await this.fail(key, step, err);
      throw err;
    }
  }

  /** Records a step's failure: its audit rows, and unless the claim was lost its row and step.failed. */
  async fail(key: string, step: EndingStep, err: unknown): Promise<void> {
    const { steps, run, events } = this.o;
    const { audit, start } = step;
    // The run belongs to a later claim now: its step row and events are that claim's to write.
    if (err instanceof LeaseLostError) {
      await this.writeAudit(audit);
      return;
    }
    const error = isAppError(err)
      ? { code: err.code, message: err.message }
      : {
          code: 'step_failed',
          message: err instanceof Error ? err.message : String(err),
        };
    // After the step's row and step.started, whichever way its write went.
    await start.started.catch(() => undefined);
    const event = { step: key, position: start.position, error };
    await steps.fail(run, key, error, { workspaceId: run.workspace_id, event, audit }).then(
      () => events.announce(run.id),
      (failErr: unknown) => lostAudit(failErr, audit),
    );
  }

  /** Writes audit rows a step still holds (before its next call), one by one as AuditedTool would have. */
  async writeAudit(audit: AuditLogInsert[]): Promise<void> {
    for (const r of audit.splice(0))
      await this.o.audit.insert(r).catch((err: unknown) => lostAudit(err, [r]));
  }
}

/**
 * The call's effect (spend, a published event) already happened: failing the step for its audit row would
 * only make the flow repeat it. The line carries the whole rows so they can be restored (as AuditedTool logs).
 */
function lostAudit(err: unknown, rows: AuditLogInsert[]): void {
  if (rows.length === 0) return;
  getLogger().error({ err, audit_rows: rows }, 'could not write the tool.call audit row');
}
