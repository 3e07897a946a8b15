import type { Knex } from 'knex';
import { isAppError } from '@raptorflow/core/errors/app-error';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import type { ScheduleRow } from '@raptorflow/data/repositories/schedule.rows';
import type { RunRequestService } from '@raptorflow/events/runs/run-request.service';
import { nextTickAt } from '@raptorflow/events/runs/schedule-timer.service';
import type { ScheduleTimerService } from '@raptorflow/events/runs/schedule-timer.service';
import type { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';

export interface ScheduleTickServiceOptions {
  db: Knex;
  schedules: ScheduleRepository;
  requests: RunRequestService;
  budgets: BudgetLedgerService;
  timers: ScheduleTimerService;
  audit: AuditLogService;
  logger: Logger;
}

export type TickOutcome = 'run_created' | 'skipped' | 'duplicate' | 'paused' | 'gone';

/** Why a tick creates no run although its schedule is active. */
type SkipReason = 'budget_paused' | 'budget_exhausted' | 'invalid_schedule';

/**
 * One tick of one schedule, exactly once: the tick's (schedule, time) row is claimed in the same transaction
 * that writes the run, its first event and its `agent.run.requested` outbox row, so any number of runners
 * receiving the same tick job (replicas, a stalled job run again, a retry) create one run between them.
 */
export class ScheduleTickService {
  constructor(private readonly o: ScheduleTickServiceOptions) {}

  async fire(scheduleId: string, at: Date): Promise<TickOutcome> {
    // Read and planned before the transaction, so a tick holds one connection at a time (its reads would
    // otherwise wait on a pool its own transaction helps to fill).
    const seen = await this.o.schedules.findById(scheduleId);
    const plan = seen && !seen.paused ? await this.plan(seen) : undefined;
    const outcome = await this.o.db.transaction(async (trx): Promise<TickOutcome> => {
      // Ticks of one schedule, and its PATCH or DELETE, take turns on the row: a change waits for a tick in
      // flight, and a tick after it sees the change.
      const s = await this.o.schedules.lockForTick(trx, scheduleId);
      if (!s) return 'gone';
      // Pausing removes the scheduler; a tick already in flight when it did is simply dropped.
      if (s.paused || !plan) return 'paused';
      const next = nextTickAt(s.cron, s.timezone, at.getTime()) ?? null;
      const claimed = await this.o.schedules.claimTick(trx, {
        schedule_id: s.id,
        scheduled_for: at,
        workspace_id: s.workspace_id,
        outcome: plan.kind === 'run' ? 'run_created' : 'skipped',
        reason: plan.kind === 'skip' ? plan.reason : null,
      });
      if (!claimed) return 'duplicate';
      await this.o.schedules.markTick(trx, s.id, { at, fired: plan.kind === 'run', next });
      if (plan.kind === 'skip') {
        await this.o.audit.record(
          {
            action: 'schedule.skipped',
            workspaceId: s.workspace_id,
            actorType: 'system',
            actorId: null,
            resourceType: 'schedule',
            resourceId: s.id,
            metadata: { reason: plan.reason, scheduled_for: at.toISOString(), ...plan.detail },
          },
          trx,
        );
        return 'skipped';
      }
      const runId = await this.o.requests.enqueue(trx, {
        workspaceId: s.workspace_id,
        ...plan.run,
        requestedBy: s.created_by,
        correlationId: null,
      });
      await this.o.schedules.setTickRun(trx, s.id, at, runId);
      return 'run_created';
    });
    // A scheduler whose schedule was deleted (its removal lost, or a create rolled back after the upsert)
    // stops itself at its first tick.
    if (outcome === 'gone') await this.o.timers.remove(scheduleId);
    this.o.logger.info(
      { schedule_id: scheduleId, scheduled_for: at.toISOString(), outcome },
      'schedule tick',
    );
    return outcome;
  }

  /** The run this tick asks for, or why it asks for none (budget first: a skipped tick costs nothing). */
  private async plan(
    s: ScheduleRow,
  ): Promise<
    | { kind: 'run'; run: Pick<Parameters<RunRequestService['enqueue']>[1], 'agent' | 'input' | 'model'> }
    | { kind: 'skip'; reason: SkipReason; detail: Record<string, unknown> }
  > {
    const budget = await this.o.budgets.state(s.workspace_id);
    if (budget.budgetNano <= 0n)
      return { kind: 'skip', reason: 'budget_paused', detail: { month: budget.month } };
    if (budget.spentNano >= budget.budgetNano)
      return { kind: 'skip', reason: 'budget_exhausted', detail: { month: budget.month } };
    try {
      const agent = await this.o.requests.agentFor(s.workspace_id, s.agent_key, 'agent');
      const input = this.o.requests.checkInput(agent, s.input, 'input');
      return { kind: 'run', run: { agent, input, model: s.model ?? agent.default_model } };
    } catch (err) {
      // The flow's input rules changed since the schedule was saved: audited, never retried.
      if (!isAppError(err)) throw err;
      return { kind: 'skip', reason: 'invalid_schedule', detail: { error: err.message } };
    }
  }
}
