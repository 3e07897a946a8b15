import { BaseModel } from './base.model';

export type FlowName = 'research' | 'muse' | 'matrix' | 'guardian';
export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export class Agent extends BaseModel {
  static override tableName = 'agents';
  declare id: string;
  declare workspace_id: string;
  declare key: string;
  declare name: string;
  declare domain: string;
  declare description: string;
  declare default_flow: FlowName;
  declare default_model: string;
  declare created_at: Date;
  declare updated_at: Date;
}

export class AgentRun extends BaseModel {
  static override tableName = 'agent_runs';
  static override jsonAttributes = ['input', 'output', 'error'];
  declare id: string;
  declare workspace_id: string;
  /** Null until the run starts when it was asked for before the workspace's Lords were seeded. */
  declare agent_id: string | null;
  declare agent_key: string;
  declare flow: FlowName;
  declare model: string;
  declare status: RunStatus;
  declare input: Record<string, unknown>;
  declare output: Record<string, unknown> | null;
  declare error: { code: string; message: string } | null;
  declare input_tokens: number;
  declare output_tokens: number;
  declare cost_usd: string;
  declare attempts: number;
  declare requested_by: string | null;
  declare correlation_id: string | null;
  declare cancel_requested_at: Date | null;
  declare heartbeat_at: Date | null;
  declare lease_owner: string | null;
  declare lease_expires_at: Date | null;
  declare duration_ms: number | null;
  declare created_at: Date;
  declare started_at: Date | null;
  declare completed_at: Date | null;
  declare updated_at: Date;
}

export type StepStatus = 'running' | 'completed' | 'failed';

/** One step (LangGraph node) of a run; a completed step's output is reused when the run resumes. */
export class AgentRunStep extends BaseModel {
  static override tableName = 'agent_run_steps';
  static override jsonAttributes = ['output', 'error'];
  declare id: string;
  declare run_id: string;
  declare workspace_id: string;
  declare key: string;
  declare position: number;
  declare status: StepStatus;
  declare output: unknown;
  declare error: { code: string; message: string } | null;
  declare model: string | null;
  declare input_tokens: number;
  declare output_tokens: number;
  declare cost_usd: string;
  declare attempts: number;
  declare started_at: Date;
  declare completed_at: Date | null;
}

/** The run's progress log: SSE event ids are these row ids. */
export class AgentRunEvent extends BaseModel {
  static override tableName = 'agent_run_events';
  static override jsonAttributes = ['data'];
  declare id: number;
  declare run_id: string;
  declare workspace_id: string;
  declare type: string;
  declare data: Record<string, unknown>;
  declare created_at: Date;
}
