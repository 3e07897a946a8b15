export type ActorType = 'user' | 'agent' | 'system' | 'service';

/** One row of `audit_logs` (append-only). */
export interface AuditLogRow {
  id: string;
  workspace_id: string | null;
  actor_type: ActorType;
  actor_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  tool_name: string | null;
  input: unknown;
  output: unknown;
  metadata: Record<string, unknown>;
  agent_run_id: string | null;
  event_id: string | null;
  correlation_id: string | null;
  created_at: Date;
}
