import { BaseModel } from './base.model';

export type ActorType = 'user' | 'agent' | 'system' | 'service';

export class AuditLog extends BaseModel {
  static override tableName = 'audit_logs';
  static override jsonAttributes = ['input', 'output', 'metadata'];
  declare id: string;
  declare workspace_id: string | null;
  declare actor_type: ActorType;
  declare actor_id: string | null;
  declare action: string;
  declare resource_type: string | null;
  declare resource_id: string | null;
  declare tool_name: string | null;
  declare input: unknown;
  declare output: unknown;
  declare metadata: Record<string, unknown>;
  declare agent_run_id: string | null;
  declare event_id: string | null;
  declare correlation_id: string | null;
  declare created_at: Date;
}
