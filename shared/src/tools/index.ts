import type { RaptorBus } from '../bus/raptor-bus';
import type { AuditLogService } from '../domain/audit-log.service';
import type { ModelDispatcher } from '../llm/model-dispatcher.service';
import { withAudit } from './audited-tool';
import { createBusPublishTool } from './bus-publish.tool';
import { createModelDispatchTool } from './model-dispatch.tool';
import type { ToolContext } from './tool-context';

export * from './tool-context';
export * from './model-dispatch.tool';
export * from './bus-publish.tool';
export * from './audited-tool';

export interface CouncilToolDeps {
  dispatcher?: ModelDispatcher;
  bus?: RaptorBus;
  audit?: AuditLogService;
}

/** The Council's tools for one context, each behind the audit wrapper. */
export function auditedTools(ctx: ToolContext, deps: CouncilToolDeps = {}) {
  return {
    modelDispatch: withAudit(createModelDispatchTool(ctx, deps), ctx, deps),
    busPublish: withAudit(createBusPublishTool(ctx, deps), ctx, deps),
  };
}

export type CouncilTools = ReturnType<typeof auditedTools>;
