import type { Knex } from 'knex';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { EMPTY_GUARDRAILS, guardrailRulesSchema } from '@raptorflow/data/runs/flow-inputs';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import type { Logger } from '@raptorflow/core/logging/logger';

export interface GuardrailsView {
  workspace_id: string;
  rules: GuardrailRules;
  updated_at: string | null;
}

export interface GuardrailServiceOptions {
  db: Knex;
  audit: AuditLogService;
  logger: Logger;
}

/** A workspace's guardrails (what Arbiter's guardian flow checks content against); empty until set. */
export class GuardrailService {
  private readonly db: Knex;
  private readonly workspaces: WorkspaceRepository;
  private readonly audit: AuditLogService;
  private readonly logger: Logger;

  constructor(opts: GuardrailServiceOptions) {
    this.db = opts.db;
    this.workspaces = new WorkspaceRepository(opts.db);
    this.audit = opts.audit;
    this.logger = opts.logger;
  }

  async get(workspaceId: string, trx?: Knex.Transaction, lock = false): Promise<GuardrailsView> {
    const row = await this.workspaces.guardrails(workspaceId, trx, lock);
    if (!row) return { workspace_id: workspaceId, rules: EMPTY_GUARDRAILS, updated_at: null };
    // The column defaults to '{}' (every list then defaults to empty); a row written outside the API that
    // does not parse reads as no rules rather than failing every guardian run of the workspace.
    const parsed = guardrailRulesSchema.safeParse(row.rules);
    if (!parsed.success)
      this.logger.warn(
        { workspace_id: workspaceId },
        'stored guardrails do not parse; reading them as empty',
      );
    return {
      workspace_id: workspaceId,
      rules: parsed.success ? parsed.data : EMPTY_GUARDRAILS,
      updated_at: row.updated_at.toISOString(),
    };
  }

  async set(workspaceId: string, userId: string, rules: GuardrailRules): Promise<GuardrailsView> {
    return this.db.transaction(async (trx) => {
      // The row lock makes concurrent PUTs audit a true before → after chain.
      const before = await this.get(workspaceId, trx, true);
      await this.workspaces.upsertGuardrails(trx, workspaceId, rules, userId);
      const after = await this.get(workspaceId, trx);
      await this.audit.record(
        {
          action: 'guardrails.updated',
          workspaceId,
          resourceType: 'workspace_guardrails',
          resourceId: workspaceId,
          input: { before: before.rules, after: after.rules },
          output: after.rules,
        },
        trx,
      );
      return after;
    });
  }
}
