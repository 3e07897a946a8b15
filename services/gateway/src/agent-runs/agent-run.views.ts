import type { FlowName, RunStatus, StepStatus } from '@raptorflow/data/models/agent.model';

/** The API shapes of a run and its parts; NUMERIC money leaves as a JSON number only here, at the edge. */
type RunError = { code: string; message: string } | null;

export const RUN_COLUMNS = [
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
] as const;

export interface RunRow {
  id: string;
  agent_key: string;
  flow: FlowName;
  status: RunStatus;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error: RunError;
  model: string;
  cost_usd: string;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

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
    cost_usd: Number(r.cost_usd),
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    duration_ms: r.duration_ms,
    created_at: r.created_at.toISOString(),
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
  };
}

export const STEP_COLUMNS = [
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
] as const;

export interface StepRow {
  key: string;
  position: number;
  status: StepStatus;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  started_at: Date;
  completed_at: Date | null;
  error: RunError;
}

export function toStepView(s: StepRow) {
  return {
    key: s.key,
    position: s.position,
    status: s.status,
    model: s.model,
    input_tokens: Number(s.input_tokens),
    output_tokens: Number(s.output_tokens),
    cost_usd: Number(s.cost_usd),
    started_at: s.started_at.toISOString(),
    completed_at: iso(s.completed_at),
    error: s.error,
  };
}

export const COST_COLUMNS = [
  'id',
  'provider',
  'model',
  'outcome',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'created_at',
] as const;

export interface CostRow {
  id: string;
  provider: string;
  model: string;
  outcome: 'success' | 'failed' | 'cancelled';
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  created_at: Date;
}

export function toCostView(c: CostRow) {
  return {
    id: c.id,
    provider: c.provider,
    model: c.model,
    outcome: c.outcome,
    input_tokens: Number(c.input_tokens),
    output_tokens: Number(c.output_tokens),
    cost_usd: Number(c.cost_usd),
    created_at: c.created_at.toISOString(),
  };
}

export type RunDetailView = RunView & {
  steps: Array<ReturnType<typeof toStepView>>;
  costs: Array<ReturnType<typeof toCostView>>;
};
