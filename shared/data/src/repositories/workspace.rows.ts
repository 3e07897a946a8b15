import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { GuardrailRules } from '../runs/flow-inputs';

/** The row types of the workspaces aggregate: one per table. */
export interface WorkspaceRow {
  id: string;
  name: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface WorkspaceMemberRow {
  id: string;
  workspace_id: string;
  user_id: string;
  role: WorkspaceRole;
  created_at: Date;
  updated_at: Date;
}

export interface WorkspaceGuardrailRow {
  workspace_id: string;
  rules: GuardrailRules;
  updated_by: string | null;
  created_at: Date;
  updated_at: Date;
}
