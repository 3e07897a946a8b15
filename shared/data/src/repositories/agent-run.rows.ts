/**
 * The row types of the runs aggregate: one per table (`agent_runs`, `agent_run_steps`, `agent_run_events`).
 * Repositories return these (or a `Pick` of them), so a column has one declared type wherever it is read.
 * NUMERIC money columns are exact decimal strings; bigint token counts arrive as numbers (see database.ts).
 */

export type FlowName = 'research' | 'muse' | 'matrix' | 'guardian' | 'campaign';
/** `awaiting_approval`: paused at a flow's approval gate, holding no lease and no worker slot. */
export type RunStatus = 'queued' | 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'completed' | 'failed';
export type RunEventType =
  | 'status'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  /** A campaign's timeline: a child run created for a stage, and its end. */
  | 'child.queued'
  | 'child.finished'
  /** A decision on the run's pending approval. */
  | 'approval.decided';
export type RunError = { code: string; message: string };

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export interface AgentRunRow {
  id: string;
  workspace_id: string;
  /** Null until the run starts when it was asked for before the workspace's Lords were seeded. */
  agent_id: string | null;
  agent_key: string;
  flow: FlowName;
  model: string;
  status: RunStatus;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error: RunError | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  attempts: number;
  requested_by: string | null;
  correlation_id: string | null;
  cancel_requested_at: Date | null;
  heartbeat_at: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  duration_ms: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  /** A campaign's child: its parent and the parent's stage that created it (unique per parent). */
  parent_run_id: string | null;
  stage: string | null;
  /** The part of `cost_usd` the run's children spent (statistics count it once, at the children). */
  children_cost_usd: string;
  /** Since when the run waits without a lease (approval, children); `paused_ms` sums past waits. */
  paused_at: Date | null;
  paused_ms: number;
}

export type ApprovalDecision = 'approve' | 'reject' | 'edit';

/** One approval a run asked for at a gate of its flow, and the decision (`expired`: nobody decided in time). */
export interface AgentRunApprovalRow {
  id: string;
  run_id: string;
  workspace_id: string;
  gate: string;
  request: Record<string, unknown>;
  requested_at: Date;
  expires_at: Date;
  decision: ApprovalDecision | 'expired' | null;
  decided_by: string | null;
  decided_at: Date | null;
  edited_content: string | null;
  note: string | null;
}

/** One step (LangGraph node) of a run; a completed step's output is reused when the run resumes. */
export interface AgentRunStepRow {
  id: string;
  run_id: string;
  workspace_id: string;
  key: string;
  position: number;
  status: StepStatus;
  output: unknown;
  error: RunError | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  attempts: number;
  started_at: Date;
  completed_at: Date | null;
}

/** The run's progress log: SSE event ids are these row ids. */
export interface AgentRunEventRow {
  id: number;
  run_id: string;
  workspace_id: string;
  type: RunEventType;
  data: Record<string, unknown>;
  created_at: Date;
}

/** The columns the API shows of a run, of a step. */
export const RUN_VIEW_COLUMNS = [
  'id',
  'agent_key',
  'flow',
  'status',
  'input',
  'output',
  'error',
  'model',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'duration_ms',
  'created_at',
  'started_at',
  'completed_at',
  'parent_run_id',
  'stage',
] as const satisfies ReadonlyArray<keyof AgentRunRow>;
export type RunViewRow = Pick<AgentRunRow, (typeof RUN_VIEW_COLUMNS)[number]>;

export const STEP_VIEW_COLUMNS = [
  'key',
  'position',
  'status',
  'model',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'started_at',
  'completed_at',
  'error',
] as const satisfies ReadonlyArray<keyof AgentRunStepRow>;
export type StepViewRow = Pick<AgentRunStepRow, (typeof STEP_VIEW_COLUMNS)[number]>;
