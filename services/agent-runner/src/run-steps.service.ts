import { isAppError } from '@raptorflow/core/errors/app-error';
import { inSpan } from '@raptorflow/core/telemetry/spans';
import {
  decimalToNano,
  decimalToNumber,
  nanoToDecimal,
  nanoToNumber,
  usdToNano,
} from '@raptorflow/core/money/money';
import type { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { StepRunner, StepScope } from './flows/flow.types';
import { DeltaCoalescer } from './delta-coalescer';
import { askForAnswer } from './structured-answer';
import type { ModelDispatchConfigurable, ModelDispatchInput } from './tools/model-dispatch.tool';
import type { MemoryOutcome, RunActor, RunMemory } from './run-memory.service';
import { LeaseLostError } from './run-lease.service';

/** The part of the audited Model Dispatch Tool a step uses (a LangChain tool's `invoke`). */
export interface DispatchToolLike {
  invoke(
    input: ModelDispatchInput,
    config?: { signal?: AbortSignal; configurable?: ModelDispatchConfigurable },
  ): Promise<unknown>;
}

interface ToolOutput {
  text: string;
  model: string;
  cost_usd: number;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    cached_input_tokens?: number;
    thinking_tokens?: number;
  };
}

export interface RunStepsOptions {
  steps: AgentRunStepRepository;
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

/**
 * The database-backed StepRunner of one run. A step's row records its output when it completes; a resumed
 * run (after a crash, a redelivery or a lost lease) that reaches a completed step gets the stored output
 * back instead of calling the model again. This covers the gap LangGraph's checkpoints leave: a step that
 * finished after the last checkpoint was written.
 */
export class RunSteps implements StepRunner {
  private position: number | undefined;
  private readonly actor: RunActor;
  /** Steps still executing: LangGraph rejects `invoke` as soon as the signal aborts, without waiting. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly o: RunStepsOptions) {
    const { run } = o;
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
    const attributes = { 'raptorflow.agent_run_id': this.o.run.id, 'raptorflow.step': key };
    const work = inSpan(`step ${key}`, { attributes }, () => this.execute(key, fn));
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(forget, forget);
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

  private async execute<T>(key: string, fn: (scope: StepScope) => Promise<T>): Promise<T> {
    const { steps, run, events } = this.o;
    const done = await steps.completedOutput<T>(run.id, key);
    if (done) return done.output;

    this.position ??= await steps.nextPosition(run.id);
    const row = await steps.start(run, { workspace_id: run.workspace_id, key, position: this.position });
    if (!row) throw new LeaseLostError(run.id);
    if (row.position === this.position) this.position++;
    await events.append(run, 'step.started', { step: key, position: row.position, attempt: row.attempts });

    // Cost in nano-USD: a step of many calls sums exactly (a float sum of the calls' USD would drift).
    const spent: Spent = { input: 0, output: 0, costNano: 0n, model: null, text: null };
    const memory = this.o.memory;
    const scope: StepScope = {
      signal: this.o.signal,
      recall: (req) => this.metered(spent, () => memory.recall(this.actor, req)),
      remember: (items) => this.metered(spent, () => memory.remember(this.actor, key, items)),
      dispatch: async (req) => {
        const answer = await askForAnswer(req, this.o.model, async (input, attempt) => {
          // The answer's text goes to live streams as it arrives; only its final form is stored.
          const deltas = new DeltaCoalescer((text) => events.publishDelta(run, { step: key, attempt, text }));
          let raw: unknown;
          try {
            raw = await this.o.dispatchTool.invoke(input, {
              signal: this.o.signal,
              configurable: { onText: (d) => deltas.push(d) },
            });
          } catch (err) {
            deltas.cancel();
            throw err;
          }
          await deltas.finish();
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
      const stored = await steps.complete(run, key, {
        output,
        model: spent.model,
        input_tokens: spent.input,
        output_tokens: spent.output,
        cost_usd: nanoToDecimal(spent.costNano),
      });
      if (!stored) throw new LeaseLostError(run.id);
      await events.append(run, 'step.completed', {
        step: key,
        position: row.position,
        cost_usd: nanoToNumber(spent.costNano),
        run_cost_usd: await this.runCost(),
        // What the live stream showed as step.delta, whole: a replay shows this instead of the deltas.
        ...(spent.text === null ? {} : { text: spent.text }),
      });
      return output;
    } catch (err) {
      // The run belongs to a later claim now: its step row and events are that claim's to write.
      if (err instanceof LeaseLostError) throw err;
      const error = isAppError(err)
        ? { code: err.code, message: err.message }
        : { code: 'step_failed', message: err instanceof Error ? err.message : String(err) };
      await steps.fail(run, key, error).catch(() => undefined);
      await events
        .append(run, 'step.failed', { step: key, position: row.position, error })
        .catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs a memory call and adds its embedding cost to the step's. MemoryService does not return what its
   * embedding calls cost, so the cost is the growth of the run's cost rows across the call (exact decimals,
   * read the same way as the run's total): a run's steps, and a step's calls, run one at a time.
   */
  private async metered<T>(spent: Spent, call: () => Promise<MemoryOutcome<T>>): Promise<T> {
    const before = await this.o.costs.runTotals(this.o.run.id);
    const outcome = await call();
    if (!outcome.embedded) return outcome.result;
    const after = await this.o.costs.runTotals(this.o.run.id);
    spent.costNano += decimalToNano(after.costUsd) - decimalToNano(before.costUsd);
    spent.input += after.inputTokens - before.inputTokens;
    // `provider:model` → the model id, as the step's dispatches record it.
    if (outcome.embeddingModel) spent.model ??= outcome.embeddingModel.replace(/^[^:]*:/, '');
    return outcome.result;
  }

  /** Everything this run has cost so far, failed and cancelled calls included (from its cost rows). */
  private async runCost(): Promise<number> {
    const totals = await this.o.costs.runTotals(this.o.run.id);
    return decimalToNumber(totals.costUsd);
  }
}
