import type { Knex } from 'knex';
import type { z } from 'zod';
import { ConflictError, NotFoundError } from '@raptorflow/core/errors/app-error';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunApprovalRepository } from '@raptorflow/data/repositories/agent-run-approval.repository';
import { AgentRunTreeRepository } from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { approvalBody } from './agent-run.schemas';
import { toApprovalView } from './agent-run.views';

export interface RunApprovalServiceOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  audit: AuditLogService;
}

/**
 * A human's decision on a run paused at an approval gate. The decision, the run's return to runnable, its
 * timeline entry, the audit row and the `agent.run.requested` that makes a runner resume it (with the decision
 * as the gate's `Command({resume})`) commit together: a decision is never recorded without the run resuming,
 * nor resumed without its record. Reject, too, resumes: the runner ends the run `failed`/`approval_rejected`.
 */
export class RunApprovalService {
  private readonly db: Knex;
  private readonly tree: AgentRunTreeRepository;
  private readonly approvals: AgentRunApprovalRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  private readonly audit: AuditLogService;

  constructor(o: RunApprovalServiceOptions) {
    this.db = o.db;
    this.tree = new AgentRunTreeRepository(o.db);
    this.approvals = new AgentRunApprovalRepository(o.db);
    this.bus = o.bus;
    this.events = o.events;
    this.audit = o.audit;
  }

  async decide(workspaceId: string, userId: string, runId: string, body: z.output<typeof approvalBody>) {
    return this.db.transaction(async (trx) => {
      const run = await this.tree.lockForDecision(trx, workspaceId, runId);
      if (!run) throw new NotFoundError('Run not found');
      const pending =
        run.status === 'awaiting_approval' ? await this.approvals.lockPending(trx, runId) : undefined;
      if (!pending)
        throw new ConflictError(
          `The run is ${run.status}, not awaiting approval; there is nothing to decide`,
          {
            status: run.status,
          },
        );
      const decided = await this.approvals.decide(trx, pending.id, {
        decision: body.decision,
        decided_by: userId,
        edited_content: body.decision === 'edit' ? (body.content ?? null) : null,
        note: body.note ?? null,
      });
      await this.tree.resumeDecided(trx, runId);
      await this.events.append(
        run,
        'approval.decided',
        { approval_id: decided.id, gate: decided.gate, decision: decided.decision, decided_by: userId },
        trx,
      );
      await this.audit.record(
        {
          action: 'agent_run.approval_decided',
          workspaceId,
          resourceType: 'agent_run',
          resourceId: runId,
          agentRunId: runId,
          input: { decision: body.decision, note: body.note ?? null, content: body.content ?? null },
          output: { approval_id: decided.id, gate: decided.gate },
        },
        trx,
      );
      await this.bus.publish(
        'agent.run.requested',
        { agent_run_id: runId, agent_key: run.agent_key },
        { trx, workspaceId },
      );
      return { id: runId, status: 'running' as const, approval: toApprovalView(decided) };
    });
  }
}
