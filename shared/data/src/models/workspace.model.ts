import type { GuardrailRules } from '../runs/flow-inputs';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import { BaseModel } from './base.model';

export class Workspace extends BaseModel {
  static override tableName = 'workspaces';
  declare id: string;
  declare name: string;
  declare created_by: string;
  declare created_at: Date;
  declare updated_at: Date;
}

export class WorkspaceMember extends BaseModel {
  static override tableName = 'workspace_members';
  declare id: string;
  declare workspace_id: string;
  declare user_id: string;
  declare role: WorkspaceRole;
  declare created_at: Date;
  declare updated_at: Date;
}

export class WorkspaceBudget extends BaseModel {
  static override tableName = 'workspace_budgets';
  static override get idColumn(): string {
    return 'workspace_id';
  }
  declare workspace_id: string;
  /** NUMERIC as an exact decimal string. */
  declare monthly_budget_usd: string;
  declare updated_by: string | null;
  declare created_at: Date;
  declare updated_at: Date;
}

export class WorkspaceGuardrail extends BaseModel {
  static override tableName = 'workspace_guardrails';
  static override jsonAttributes = ['rules'];
  static override get idColumn(): string {
    return 'workspace_id';
  }
  declare workspace_id: string;
  declare rules: GuardrailRules;
  declare updated_by: string | null;
  declare created_at: Date;
  declare updated_at: Date;
}
