import type { Knex } from 'knex';
import type { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { INVALIDATION_TOPICS } from '@raptorflow/core/cache/invalidation-bus';
import type { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import { GroupCommit } from '@raptorflow/core/batching/group-commit';
import { writeEventAuditRows } from './event-audit.writer';
import type { EventAuditRow } from './event-audit.writer';
import type { Envelope } from '@raptorflow/events/bus/envelope';
import type { Logger } from '@raptorflow/core/logging/logger';

export interface SeederServiceOptions {
  db: Knex;
  registry: AgentRegistryService;
  audit: AuditLogService;
  logger: Logger;
  /** Tells gateway replicas that cache agent lists that a workspace's Lords changed. */
  invalidations: InvalidationBus;
}

export class SeederService {
  private readonly db: Knex;
  private readonly workspaces: WorkspaceRepository;
  private readonly registry: AgentRegistryService;
  private readonly audit: AuditLogService;
  private readonly logger: Logger;
  private readonly invalidations: InvalidationBus;
  private readonly testEventRows: GroupCommit<EventAuditRow, boolean>;

  constructor(opts: SeederServiceOptions) {
    this.db = opts.db;
    this.workspaces = new WorkspaceRepository(opts.db);
    this.registry = opts.registry;
    this.audit = opts.audit;
    this.logger = opts.logger;
    this.invalidations = opts.invalidations;
    const auditRows = new AuditLogRepository(opts.db);
    // Rows of one event-loop turn share an INSERT sent at the end of it; up to 4 INSERTs in flight.
    this.testEventRows = new GroupCommit({
      run: (rows) => writeEventAuditRows(auditRows, rows),
      maxBatch: 100,
      maxInFlight: 4,
    });
  }

  /** Idempotent: the Lords and the audit row are keyed, so a redelivered event changes nothing. */
  async seedWorkspace(workspaceId: string, eventId: string): Promise<{ seeded: number; skipped?: string }> {
    const result = await this.db.transaction(async (trx) => {
      // Lock the workspace row: a workspace deleted meanwhile is skipped instead of failing on its FK.
      if (!(await this.workspaces.lock(trx, workspaceId, 'share'))) {
        this.logger.warn({ workspace_id: workspaceId }, 'workspace no longer exists; nothing to seed');
        return { seeded: 0, skipped: 'workspace_missing' };
      }
      const seeded = await this.registry.seedWorkspace(workspaceId, trx);
      await this.audit.record(
        {
          action: 'workspace.seeded',
          workspaceId,
          actorType: 'service',
          actorId: 'seeder',
          resourceType: 'workspace',
          resourceId: workspaceId,
          output: { agents_created: seeded },
          eventId,
        },
        trx,
      );
      return { seeded };
    });
    if (result.seeded > 0) await this.invalidations.publish(INVALIDATION_TOPICS.agents, workspaceId);
    return result;
  }

  /**
   * Smoke event: one audit row per event id, however often it is delivered. Concurrent jobs share one INSERT
   * (group commit); each resolves once its own row is committed. Every column is given, none from context.
   */
  async recordTestEvent(envelope: Envelope, payload: unknown): Promise<{ recorded: boolean }> {
    const actorId = envelope.actor_user_id ?? null;
    const recorded = await this.testEventRows.submit({
      workspace_id: envelope.workspace_id,
      actor_type: actorId ? 'user' : 'system',
      actor_id: actorId,
      action: 'test.event',
      resource_type: 'event',
      resource_id: envelope.event_id,
      tool_name: null,
      input: payload === undefined ? null : JSON.stringify(payload),
      output: null,
      metadata: '{}',
      agent_run_id: null,
      event_id: envelope.event_id,
      correlation_id: envelope.correlation_id,
    });
    return { recorded };
  }
}
