import type { Knex } from 'knex';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { EMPTY_GUARDRAILS, guardrailRulesSchema } from '@raptorflow/data/runs/flow-inputs';
import { getDatabase } from '@raptorflow/core/db/database';
import { getLogger } from '@raptorflow/core/logging/logger';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import type { Logger } from '@raptorflow/core/logging/logger';

export interface GuardrailsView {
  workspace_id: string;
  rules: GuardrailRules;
  updated_at: string | null;
}

export interface GuardrailServiceOptions {
  db?: Knex;
  audit?: AuditLogService;
  logger?: Logger;
}

/** A workspace's guardrails (what Arbiter's guardian flow checks content against); empty until set. */
export class GuardrailService {
  private readonly db: Knex;
  private readonly audit: AuditLogService;
  private readonly logger: Logger;

  constructor(opts: GuardrailServiceOptions = {}) {
    this.db = opts.db ?? getDatabase();
    this.audit = opts.audit ?? new AuditLogService({ db: this.db });
    this.logger = opts.logger ?? getLogger();
  }

  async get(workspaceId: string, db: Knex = this.db, lock = false): Promise<GuardrailsView> {
    const q = db('workspace_guardrails')
      .where({ workspace_id: workspaceId })
      .first<{ rules: unknown; updated_at: Date } | undefined>('rules', 'updated_at');
    if (lock) q.forUpdate();
    const row = await q;
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
      const json = JSON.stringify(rules);
      await trx('workspace_guardrails')
        .insert({ workspace_id: workspaceId, rules: json, updated_by: userId })
        .onConflict('workspace_id')
        .merge({ rules: json, updated_by: userId, updated_at: trx.fn.now() });
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
