import { inSpan } from '@raptorflow/core/telemetry/spans';
import { decimalToNano, usdToNano } from '@raptorflow/core/money/money';
import type { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { RunTotals } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AuditLogInsert, AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { StepRunner, StepScope } from './flows/flow.types';
import { DeltaCoalescer } from './delta-coalescer';
import { askForAnswer } from './structured-answer';
import type { DispatchToolLike, ToolOutput } from './tools/dispatch-tool.types';
import type { MemoryOutcome, RunActor, RunMemory } from './run-memory.service';
import { observeStepBookkeeping } from './step-bookkeeping.metric';
import { StepEnds } from './step-ends';
import type { Spent } from './step-ends';
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
  private readonly ends: StepEnds;
  private readonly actor: RunActor;
  /** Steps still executing: LangGraph rejects `invoke` as soon as the signal aborts, without waiting. */
  private readonly running = new Set<Promise<unknown>>();
  /**
   * The ends of the steps that returned so far, one after the other: each step's end (its row, audit rows
   * and step.completed) is written after the one before, while the flow already goes on. Rejected from the
   * first end that failed (a lost lease, the database) on, and so is everything waiting on it.
   */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly o: RunStepsOptions) {
    const { run } = o;
    this.starts = new StepStarts({ steps: o.steps, events: o.events, run, after: () => this.tail });
    this.ends = new StepEnds({ steps: o.steps, audit: o.audit, events: o.events, run });
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
   * Resolves once every step that returned has its end committed; rejects with the first end's failure.
   * A checkpoint past those steps waits for it (StepOrderedCheckpointer), and so does the run's end.
   */
  settled(): Promise<void> {
    return this.tail;
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
    const { run, events } = this.o;
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
          await this.ends.writeAudit(audit);
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
                // The provider is called once the steps before have ended (their ends are written while
                // this step starts, its budget reservation included): a crash before then re-runs only
                // the step whose end was lost, as when each end was awaited. The wait is bookkeeping.
                before: () => {
                  const waiting = performance.now();
                  return this.tail.finally(() => (timing.workMs -= performance.now() - waiting));
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

    let output: T;
    try {
      output = await fn(scope);
    } catch (err) {
      // An earlier step's end failed: this step's begin waited for it and was never written, and that
      // failure is the one the run must see.
      const prior = await this.tail.then(
        () => undefined,
        (e: unknown) => e ?? new Error('step end failed'),
      );
      if (prior !== undefined) throw prior;
      await this.ends.fail(key, state, err);
      throw err;
    }
    // The output goes back to the flow now; the end is written after the ends before it, while the next
    // step's model call already runs (its begin waits for this end, and so does any checkpoint past it).
    const end = this.tail.then(() => this.ends.complete(key, output, state));
    this.tail = end;
    end.catch(() => undefined);
    this.running.add(end);
    const forget = () => this.running.delete(end);
    end.then(forget, forget);
    this.starts.completedWith(key, output);
    return output;
  }

  /**
   * Runs a memory call and adds its embedding cost to the step's. MemoryService does not return what its
   * embedding calls cost, so the cost is the growth of the run's cost rows across the call (exact decimals,
   * read the same way as the run's total): a run's steps, and a step's calls, run one at a time. So the
   * totals the step's begin read stand until a call adds rows, and a memory step reads them once, after.
   */
  private async metered<T>(state: StepState, call: () => Promise<MemoryOutcome<T>>): Promise<T> {
    const { spent, timing } = state;
    await this.ends.writeAudit(state.audit);
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
