import type { MemorySkip, StepRunner, StepScope } from '../../services/agent-runner/src/flows/flow.types';
import { askForAnswer } from '../../services/agent-runner/src/structured-answer';
import type { RunActor, RunMemory } from '../../services/agent-runner/src/run-memory.service';
import type {
  ModelDispatchConfigurable,
  ModelDispatchInput,
  ModelDispatchOutput,
} from '../../services/agent-runner/src/tools/model-dispatch.tool';

/** The part of the audited Model Dispatch Tool a step needs. */
export interface DispatchToolLike {
  invoke(
    input: ModelDispatchInput,
    config?: { signal?: AbortSignal; configurable?: ModelDispatchConfigurable },
  ): Promise<ModelDispatchOutput>;
}

/** Thrown by the fake where a real runner would have died (process killed, node lost). */
export class SimulatedCrash extends Error {
  constructor(readonly step: string) {
    super(`simulated crash at step ${step}`);
    this.name = 'SimulatedCrash';
  }
}

export interface FakeStepRunnerOptions {
  dispatchTool: DispatchToolLike;
  model: string;
  signal?: AbortSignal;
  /** Completed step outputs by key; share one map between runners to model a resumed run. */
  memo?: Map<string, unknown>;
  /** Crash when this step starts, before it does any work. */
  crashAt?: string;
  /** The runner's memory and the run it acts for; without it every recall and remember is skipped. */
  memory?: { memory: RunMemory; actor: RunActor };
}

/** What a step without memory (benchmarks, flow tests that do not care) gets from recall and remember. */
export const NO_MEMORY: MemorySkip = { code: 'memory_off', message: 'This step runner has no memory' };

/**
 * An in-memory StepRunner with the production contract: a completed step's output is stored (as JSON, like
 * the database would) and returned instead of running it again; every dispatch goes through the audited
 * Model Dispatch Tool, every recall and remember through the runner's RunMemory. Stricter than production where a flow bug should fail loudly: a step may dispatch
 * at most once, and a key may run to completion only once per memo.
 */
export class FakeStepRunner implements StepRunner {
  readonly memo: Map<string, unknown>;
  /** Step keys whose function ran (not memo hits), in order. */
  readonly ran: string[] = [];
  /** Step keys that dispatched a model call, in order. */
  readonly dispatched: string[] = [];
  /** Step keys answered from the memo. */
  readonly replayed: string[] = [];
  private readonly signal: AbortSignal;

  constructor(private readonly o: FakeStepRunnerOptions) {
    this.memo = o.memo ?? new Map();
    this.signal = o.signal ?? new AbortController().signal;
  }

  async step<T>(key: string, fn: (scope: StepScope) => Promise<T>): Promise<T> {
    if (this.memo.has(key)) {
      this.replayed.push(key);
      return JSON.parse(JSON.stringify(this.memo.get(key))) as T;
    }
    if (key === this.o.crashAt) throw new SimulatedCrash(key);
    this.ran.push(key);
    let calls = 0;
    const mem = this.o.memory;
    const scope: StepScope = {
      signal: this.signal,
      recall: async (req) =>
        mem ? (await mem.memory.recall(mem.actor, req)).result : { items: [], skipped: NO_MEMORY },
      remember: async (items) =>
        mem ? (await mem.memory.remember(mem.actor, key, items)).result : { ids: [], skipped: NO_MEMORY },
      dispatch: async (req) => {
        if (++calls > 1) throw new Error(`step "${key}" dispatched more than once`);
        this.dispatched.push(key);
        // The production answer path (schema, validation, one repair), over the audited tool.
        return askForAnswer(req, this.o.model, async (input) => {
          const out = await this.o.dispatchTool.invoke(input, { signal: this.signal });
          return { text: out.text, model: out.model, costUsd: out.cost_usd };
        });
      },
    };
    const output = await fn(scope);
    if (output === undefined) throw new Error(`step "${key}" returned nothing; outputs must be JSON`);
    this.memo.set(key, JSON.parse(JSON.stringify(output)));
    return output;
  }
}
