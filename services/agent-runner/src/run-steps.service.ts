import { isAppError } from '@raptorflow/core/errors/app-error';
import { inSpan } from '@raptorflow/core/telemetry/spans';
import { decimalToNano, nanoToDecimal, nanoToNumber, usdToNano } from '@raptorflow/core/money/money';
import type { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { RunTotals } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AuditLogInsert, AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { getLogger } from '@raptorflow/core/logging/logger';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { StepRunner, StepScope } from './flows/flow.types';
import { DeltaCoalescer } from './delta-coalescer';
import { askForAnswer } from './structured-answer';
import type { DispatchToolLike, ToolOutput } from './tools/dispatch-tool.types';
import type { MemoryOutcome, RunActor, RunMemory } from './run-memory.service';
import { LeaseLostError } from './run-lease.service';
import { observeStepBookkeeping } from './step-bookkeeping.metric';
import { StepStarts } from './step-starts';
import type { StepStart } from './step-starts';
import type { StepWork } from './step-bookkeeping.metric';

export interface RunStepsOptions {
  steps: AgentRunStepRepository;
  /** Where audit rows a step could not carry in its own statements are written. */
  audit: AuditLogRepository;
  costs: CostLogRepository;
  events: RunEventLog;
  run: AgentRunRow;
  model: string;
  dispatchTool: DispatchToolLike;
  memory: RunMemory;
  signal: AbortSignal;
}

/** What one step has spent so far; cost in nano-USD, so a step of many calls sums exactly. */
interface Spent {
  input: number;
  output: number;
  costNano: bigint;
  model: string | null;
  /** The text of the step's last accepted answer, stored in its step.completed event. */
  text: string | null;
}

/** Where a step's time went: its model and memory calls, the rest being the runner's bookkeeping. */
interface StepTiming {
  work: StepWork;
  workMs: number;
}

/** What one executing step holds besides its output. */
interface StepState {
  spent: Spent;
  timing: StepTiming;
  /** Audit rows of its calls not written yet (see `execute`). */
  audit: AuditLogInsert[];
  /** The run's cost-row totals as of now, while known without a read: since the step began, or its last memory call. */
  totals: RunTotals | undefined;
  /** How the step started (its row may still be on its way). */
  start: Extract<StepStart<unknown>, { kind: 'running' }>;
  /** The totals the begin read still stand: no call of this step has added cost rows or read them since. */
  beginTotals: boolean;
}

/**
 * The database-backed StepRunner of one run. A step's row records its output when it completes; a resumed
 * run (after a crash, a redelivery or a lost lease) that reaches a completed step gets the stored output
 * back instead of calling the model again. This covers the gap LangGraph's checkpoints leave: a step that
 * finished after the last checkpoint was written.
 */
export class RunSteps implements StepRunner {
  private readonly starts: StepStarts;
  private readonly actor: RunActor;
  /** Steps still executing: LangGraph rejects `invoke` as soon as the signal aborts, without waiting. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly o: RunStepsOptions) {
    const { run } = o;
    this.starts = new StepStarts({ steps: o.steps, events: o.events, run });
    this.actor = {
      workspaceId: run.workspace_id,
      userId: run.requested_by,
      agentRunId: run.id,
      agentKey: run.agent_key,
      correlationId: run.correlation_id,
      signal: o.signal,
    };
  }

  step<T>(key: string, fn: (scope: StepScope) => Promise<T>): Promise<T> {
    const started = performance.now();
    const timing: StepTiming = { work: 'none', workMs: 0 };
    const attributes = {
      'raptorflow.agent_run_id': this.o.run.id,
      'raptorflow.step': key,
    };
    const work = inSpan(`step ${key}`, { attributes }, () => this.execute(key, fn, timing));
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(() => {
      forget();
      observeStepBookkeeping(timing.work, (performance.now() - started - timing.workMs) / 1000);
    }, forget);
    return work;
  }

  /**
   * Resolves once no step is executing (or after `maxMs`), so an aborted run records its cancelled call's
   * cost row and its step's failure before the run's final status, which is what readers of that status expect.
   */
  async idle(maxMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
    await Promise.race([Promise.allSettled([...this.running]), limit]);
    clearTimeout(timer);
  }

  private async execute<T>(
    key: string,
    fn: (scope: StepScope) => Promise<T>,
    timing: StepTiming,
  ): Promise<T> {
    const { steps, run, events } = this.o;
    const start = await this.starts.start<T>(key);
    if (start.kind === 'stored') {
      timing.work = 'stored';
      return start.output;
    }
    // The audit rows of this step's calls not written yet: they ride with the step's end (one statement),
    // or are written before the step's next call, so no more is at stake in a crash than with a write per call.
    const audit: AuditLogInsert[] = [];

    // Cost in nano-USD: a step of many calls sums exactly (a float sum of the calls' USD would drift).
    const spent: Spent = { input: 0, output: 0, costNano: 0n, model: null, text: null };
    const state: StepState = { spent, timing, audit, totals: undefined, start, beginTotals: true };
    const memory = this.o.memory;
    const scope: StepScope = {
      signal: this.o.signal,
      recall: (req) => this.metered(state, () => memory.recall(this.actor, req)),
      remember: (items) => this.metered(state, () => memory.remember(this.actor, key, items)),
      dispatch: async (req) => {
        const answer = await askForAnswer(req, this.o.model, async (input, attempt) => {
          // The call adds cost rows: the totals are unknown again until read.
          state.totals = undefined;
          state.beginTotals = false;
          // The answer's text goes to live streams as it arrives, after the step's step.started (its row may
          // still be on its way); only its final form is stored.
          const deltas = new DeltaCoalescer((text) => {
            start.started.then(
              () => events.publishDelta(run, { step: key, attempt, text }),
              () => undefined,
            );
          });
          await this.writeAudit(audit);
          let raw: unknown;
          try {
            raw = await this.o.dispatchTool.invoke(input, {
              signal: this.o.signal,
              configurable: {
                deferAudit: (r) => audit.push(r),
                onText: (d) => deltas.push(d),
                onModelTime: (ms) => {
                  timing.work = 'model';
                  timing.workMs += ms;
                },
              },
            });
          } catch (err) {
            deltas.cancel();
            throw err;
          }
          // The last delta keeps the live stream's 50 ms gap: pacing of the model's stream, not bookkeeping.
          const paced = performance.now();
          await deltas.finish();
          timing.workMs += performance.now() - paced;
          const out = (typeof raw === 'string' ? JSON.parse(raw) : raw) as ToolOutput;
          spent.input += (out.usage?.input_tokens ?? 0) + (out.usage?.cached_input_tokens ?? 0);
          spent.output += (out.usage?.output_tokens ?? 0) + (out.usage?.thinking_tokens ?? 0);
          spent.costNano += usdToNano(out.cost_usd);
          spent.model = out.model;
          return { text: out.text, model: out.model, costUsd: out.cost_usd };
        });
        spent.text = answer.text;
        return answer;
      },
    };

    try {
      const output = await fn(scope);
      // The step's row was written while it worked (or a lost claim or the database refused it: thrown here).
      const { position } = await start.started;
      // One round trip: step row, its audit rows, and its step.completed event with the run's cost so far.
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
      this.starts.completedWith(key, output);
      events.announce(run.id);
      return output;
    } catch (err) {
      // The run belongs to a later claim now: its step row and events are that claim's to write.
      if (err instanceof LeaseLostError) {
        await this.writeAudit(audit);
        throw err;
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
      throw err;
    }
  }

  /** Writes audit rows a step still holds (before its next call), one by one as AuditedTool would have. */
  private async writeAudit(audit: AuditLogInsert[]): Promise<void> {
    for (const r of audit.splice(0))
      await this.o.audit.insert(r).catch((err: unknown) => lostAudit(err, [r]));
  }

  /**
   * Runs a memory call and adds its embedding cost to the step's. MemoryService does not return what its
   * embedding calls cost, so the cost is the growth of the run's cost rows across the call (exact decimals,
   * read the same way as the run's total): a run's steps, and a step's calls, run one at a time. So the
   * totals the step's begin read stand until a call adds rows, and a memory step reads them once, after.
   */
  private async metered<T>(state: StepState, call: () => Promise<MemoryOutcome<T>>): Promise<T> {
    const { spent, timing } = state;
    await this.writeAudit(state.audit);
    // The totals the step's begin read stand until the step's first call adds cost rows.
    const { runTotals } = await state.start.started;
    if (state.beginTotals) state.totals = runTotals;
    state.beginTotals = false;
    const before = state.totals ?? (await this.o.costs.runTotals(this.o.run.id));
    state.totals = undefined;
    const callStarted = performance.now();
    const outcome = await call().finally(() => {
      if (timing.work === 'none') timing.work = 'memory';
      timing.workMs += performance.now() - callStarted;
    });
    if (!outcome.embedded) {
      state.totals = before;
      return outcome.result;
    }
    const after = await this.o.costs.runTotals(this.o.run.id);
    state.totals = after;
    spent.costNano += decimalToNano(after.costUsd) - decimalToNano(before.costUsd);
    spent.input += after.inputTokens - before.inputTokens;
    // `provider:model` → the model id, as the step's dispatches record it.
    if (outcome.embeddingModel) spent.model ??= outcome.embeddingModel.replace(/^[^:]*:/, '');
    return outcome.result;
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
