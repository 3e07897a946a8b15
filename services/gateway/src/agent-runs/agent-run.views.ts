import { decimalToNumber } from '@raptorflow/core/money/money';
import type {
  FlowName,
  RunStatus,
  RunViewRow,
  StepViewRow,
} from '@raptorflow/data/repositories/agent-run.rows';
import type { RunCostViewRow } from '@raptorflow/data/repositories/cost.rows';
import type { ChildRunRow } from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { ApprovalViewRow } from '@raptorflow/data/repositories/agent-run-approval.repository';

/** The API shapes of a run and its parts; NUMERIC money leaves as a JSON number only here, at the edge. */
type RunError = { code: string; message: string } | null;

export type RunRow = RunViewRow;

export interface RunView {
  id: string;
  agent: string;
  flow: FlowName;
  status: RunStatus;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error: RunError;
  model: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** A campaign's child run: its parent and the stage it runs (null for a run asked for directly). */
  parent_run_id: string | null;
  stage: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toRunView(r: RunRow): RunView {
  return {
    id: r.id,
    agent: r.agent_key,
    flow: r.flow,
    status: r.status,
    input: r.input,
    output: r.output,
    error: r.error,
    model: r.model,
    cost_usd: decimalToNumber(r.cost_usd),
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    duration_ms: r.duration_ms,
    created_at: r.created_at.toISOString(),
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
    parent_run_id: r.parent_run_id,
    stage: r.stage,
  };
}

export type StepRow = StepViewRow;

export function toStepView(s: StepRow) {
  return {
    key: s.key,
    position: s.position,
    status: s.status,
    model: s.model,
    input_tokens: Number(s.input_tokens),
    output_tokens: Number(s.output_tokens),
    cost_usd: decimalToNumber(s.cost_usd),
    started_at: s.started_at.toISOString(),
    completed_at: iso(s.completed_at),
    error: s.error,
  };
}

export type CostRow = RunCostViewRow;

export function toCostView(c: CostRow) {
  return {
    id: c.id,
    provider: c.provider,
    model: c.model,
    outcome: c.outcome,
    input_tokens: Number(c.input_tokens),
    output_tokens: Number(c.output_tokens),
    cost_usd: decimalToNumber(c.cost_usd),
    created_at: c.created_at.toISOString(),
  };
}

export function toChildView(c: ChildRunRow) {
  return {
    id: c.id,
    stage: c.stage ?? '',
    agent: c.agent_key,
    flow: c.flow,
    status: c.status,
    cost_usd: decimalToNumber(c.cost_usd),
    created_at: c.created_at.toISOString(),
    completed_at: iso(c.completed_at),
  };
}

export function toApprovalView(a: ApprovalViewRow) {
  return {
    id: a.id,
    gate: a.gate,
    request: a.request,
    requested_at: a.requested_at.toISOString(),
    expires_at: a.expires_at.toISOString(),
    decision: a.decision,
    decided_by: a.decided_by,
    decided_at: iso(a.decided_at),
    edited_content: a.edited_content,
    note: a.note,
  };
}

export type RunDetailView = RunView & {
  steps: Array<ReturnType<typeof toStepView>>;
  costs: Array<ReturnType<typeof toCostView>>;
  children: Array<ReturnType<typeof toChildView>>;
  approvals: Array<ReturnType<typeof toApprovalView>>;
};
