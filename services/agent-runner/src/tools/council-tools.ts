import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { withAudit } from './audited-tool';
import { createBusPublishTool } from './bus-publish.tool';
import { createModelDispatchTool } from './model-dispatch.tool';
import type { ToolContext } from './tool-context';

export interface CouncilToolDeps {
  dispatcher: ModelDispatcher;
  bus: RaptorBus;
  audit: AuditLogService;
}

/** The Council's tools for one context, each behind the audit wrapper. */
export function auditedTools(ctx: ToolContext, deps: CouncilToolDeps) {
  return {
    modelDispatch: withAudit(createModelDispatchTool(ctx, deps), ctx, deps),
    busPublish: withAudit(createBusPublishTool(ctx, deps), ctx, deps),
  };
}

export type CouncilTools = ReturnType<typeof auditedTools>;
