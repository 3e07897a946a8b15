import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { z } from 'zod';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { MemoryKind } from '@raptorflow/data/repositories/memory-item.rows';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';

/**
 * The contract between the run lifecycle (claims, leases, steps, events: `agent-run.service.ts`) and the
 * flows (LangGraph graphs, one file each). A flow never talks to the database or Redis itself: every model
 * call and every unit of work goes through the StepRunner it is given.
 */

/** One model call of a step, answered as JSON of `schema` (see structured-answer.ts). */
export interface StepDispatchRequest<T> {
  prompt: string;
  system?: string;
  maxTokens?: number;
  /** What the answer must be: sent to the provider as JSON Schema, and the answer is validated with it. */
  schema: z.ZodType<T>;
  /** A short name for the answer (`research_plan`), in the request, in traces and in errors. */
  schemaName: string;
}

export interface StepDispatchResult<T> {
  /** The validated answer. */
  answer: T;
  /** The answer as the model wrote it (JSON text). */
  text: string;
  model: string;
  /** Of every call the answer took (a repaired answer took two). */
  costUsd: number;
  /** The first answer failed the schema and this one is its repair. */
  repaired: boolean;
}

export interface RecallRequest {
  query: string;
  k: number;
  kinds: readonly MemoryKind[];
  /**
   * Whose items: Lord keys, with null for the Council's shared ones, or 'any' for every Lord's. By default
   * the run's own Lord and the Council: [key, null].
   */
  agents?: readonly (string | null)[] | 'any';
}

/** One recalled item as step outputs and run outputs show it. */
export interface RecalledItem {
  id: string;
  kind: MemoryKind;
  /** The fused rank score the hits are ordered by. */
  score: number;
  /** Cosine similarity to the query; null when only the full-text side found the item. */
  similarity: number | null;
  content: string;
}

/** Why memory gave nothing: `memory_empty` (no embedding call made), or the error that was absorbed. */
export interface MemorySkip {
  code: string;
  message: string;
}

export interface RecallResult {
  items: RecalledItem[];
  skipped: MemorySkip | null;
}

export interface RememberItem {
  kind: MemoryKind;
  subject: string | null;
  content: string;
  metadata?: Record<string, unknown>;
  /** A Lord's key, or null for the Council; the run's own Lord by default. */
  agent?: string | null;
}

export interface RememberResult {
  /** The stored items' ids, in the order given. */
  ids: string[];
  skipped: MemorySkip | null;
}

/**
 * The Council's memory as a step sees it, bound to the run (workspace, requester, Lord, run id). Memory
 * never ends a run: an embedding outage or an exhausted budget comes back as `skipped`, not as an error.
 */
export interface StepMemory {
  recall(req: RecallRequest): Promise<RecallResult>;
  /** Stores items with the run as their source; their embedding cost counts towards the step. */
  remember(items: readonly RememberItem[]): Promise<RememberResult>;
}

export interface StepScope extends StepMemory {
  /**
   * One structured answer through the audited Model Dispatch Tool (budget admission, cost row and audit
   * apply to each call): validated against the schema, repaired once, else `invalid_model_answer`.
   */
  dispatch<T>(req: StepDispatchRequest<T>): Promise<StepDispatchResult<T>>;
  readonly signal: AbortSignal;
}

export interface StepRunner {
  /**
   * Runs `fn` as the step `key` of this run at most once to completion: when a resumed run reaches a step
   * that completed before (its output is stored), the stored output is returned and `fn` is not called, so
   * no model call is paid for twice. The output must be JSON-serialisable.
   */
  step<T>(key: string, fn: (scope: StepScope) => Promise<T>): Promise<T>;
}

/** A child run as a parent's step asks for it: a Lord, optionally a flow of its own, and that flow's input. */
export interface ChildRunRequest {
  agent: string;
  input: Record<string, unknown>;
}

/**
 * A parent flow's child runs (a campaign's stages). `run` creates the stage's child once per (parent, stage)
 * — a resumed parent finds the child it created before — and returns its output once it completed; until
 * then it throws `ChildrenPendingSignal` (the runner parks the parent, holding no slot, until a child's end
 * wakes it and the node runs again). A child that failed or was cancelled fails the parent.
 */
export interface ChildRuns {
  run(stage: string, req: ChildRunRequest): Promise<Record<string, unknown>>;
  /** Several stages at once (all created before waiting on any), outputs in order. */
  runAll(reqs: ReadonlyArray<{ stage: string } & ChildRunRequest>): Promise<Array<Record<string, unknown>>>;
}

/** What a flow's nodes read from `config.configurable.runtime` at invoke time. */
export interface FlowRuntime {
  steps: StepRunner;
  /** Only flows that hand stages to other Lords (the campaign) use it; the runner always gives it. */
  children?: ChildRuns;
  guardrails: GuardrailRules;
  /** The alias or model id every dispatch of this run uses. */
  model: string;
  agent: { key: string; name: string; domain: string };
  signal: AbortSignal;
}

export interface FlowDefinition {
  name: FlowName;
  /**
   * Compiles the graph with the given checkpointer. The runner invokes it as
   * `graph.invoke(input | null, { configurable: { thread_id: runId, runtime }, signal })` — `null` resumes
   * from the last checkpoint of that thread.
   */
  compile(checkpointer: BaseCheckpointSaver): FlowGraph;
  /** The run's `output` (structured JSON returned by the API as is) from the graph's final state. */
  output(state: Record<string, unknown>): Record<string, unknown>;
}

/** The part of a compiled LangGraph graph the runner uses. */
export interface FlowGraph {
  /**
   * `input`: the run's input, null to resume from the last checkpoint; the runner also passes a
   * `Command({resume})` at an approval gate (each graph types its own Command, so it is cast there).
   */
  invoke(
    input: Record<string, unknown> | null,
    config: { configurable: { thread_id: string; runtime: FlowRuntime }; signal?: AbortSignal },
  ): Promise<Record<string, unknown>>;
  /** The thread's state: its pending interrupts (an approval gate waiting) are in `tasks[].interrupts`. */
  getState(config: { configurable: { thread_id: string } }): Promise<{
    tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }>;
  }>;
}
