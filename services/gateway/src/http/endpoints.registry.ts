import { bullBoardEndpoints } from '../admin/bull-board.routes';
import { deadLetterEndpoints } from '../admin/dead-letters.routes';
import { agentRunEndpoints } from '../agent-runs/agent-runs.routes';
import type { AgentRunRoutesDeps } from '../agent-runs/agent-runs.routes';
import { agentEndpoints } from '../agents/agents.routes';
import type { AgentRoutesDeps } from '../agents/agents.routes';
import { auditEndpoints } from '../audit/audit-logs.routes';
import type { AuditRoutesDeps } from '../audit/audit-logs.routes';
import { budgetEndpoints } from '../budgets/budget.routes';
import type { BudgetRoutesDeps } from '../budgets/budget.routes';
import { consoleEndpoints } from '../console/console.routes';
import type { ConsoleRoutesDeps } from '../console/console.routes';
import { costEndpoints } from '../costs/costs.routes';
import type { CostRoutesDeps } from '../costs/costs.routes';
import { eventEndpoints } from '../events/events.routes';
import type { EventRoutesDeps } from '../events/events.routes';
import { flowEndpoints } from '../flows/flows.routes';
import type { FlowRoutesDeps } from '../flows/flows.routes';
import { guardrailEndpoints } from '../guardrails/guardrails.routes';
import type { GuardrailRoutesDeps } from '../guardrails/guardrails.routes';
import { healthEndpoints } from '../health/health.routes';
import type { HealthRoutesDeps } from '../health/health.routes';
import { metricsEndpoints } from '../health/metrics.routes';
import type { MetricsRoutesDeps } from '../health/metrics.routes';
import { memberEndpoints } from '../members/members.routes';
import { memoryEndpoints } from '../memory/memory.routes';
import type { MemoryRoutesDeps } from '../memory/memory.routes';
import type { MemberRoutesDeps } from '../members/members.routes';
import { dispatchEndpoints } from '../model/dispatch.routes';
import type { DispatchRoutesDeps } from '../model/dispatch.routes';
import { docsEndpoints } from '../openapi/docs.routes';
import type { DocsRoutesDeps } from '../openapi/docs.routes';
import { scheduleEndpoints } from '../schedules/schedules.routes';
import type { ScheduleRoutesDeps } from '../schedules/schedules.routes';
import { workspaceEndpoints } from '../workspaces/workspaces.routes';
import type { WorkspaceRoutesDeps } from '../workspaces/workspaces.routes';
import type { AnyEndpoint } from './endpoint';

/** Everything a handler of the app may use; app.ts builds it once (dead letters get theirs from their router). */
export type GatewayServices = HealthRoutesDeps &
  MetricsRoutesDeps &
  DocsRoutesDeps &
  WorkspaceRoutesDeps &
  MemberRoutesDeps &
  BudgetRoutesDeps &
  GuardrailRoutesDeps &
  AgentRoutesDeps &
  AgentRunRoutesDeps &
  AuditRoutesDeps &
  EventRoutesDeps &
  DispatchRoutesDeps &
  CostRoutesDeps &
  MemoryRoutesDeps &
  ConsoleRoutesDeps &
  FlowRoutesDeps &
  ScheduleRoutesDeps;

/**
 * The endpoints app.ts mounts from GatewayServices, in matching order (within a router Express tries routes in
 * the order they were added).
 */
export const APP_ENDPOINTS: readonly AnyEndpoint<GatewayServices>[] = [
  ...healthEndpoints,
  ...docsEndpoints,
  ...metricsEndpoints,
  ...consoleEndpoints,
  ...memberEndpoints,
  ...budgetEndpoints,
  ...guardrailEndpoints,
  ...workspaceEndpoints,
  ...agentEndpoints,
  ...flowEndpoints,
  ...agentRunEndpoints,
  ...auditEndpoints,
  ...eventEndpoints,
  ...dispatchEndpoints,
  ...costEndpoints,
  ...memoryEndpoints,
  ...scheduleEndpoints,
];

/**
 * Every endpoint the gateway serves: the app's, then the admin pages' (Bull Board mounts itself, the dead
 * letters come with their router). /openapi.json, the route fuzzes, the tenant-isolation test and the
 * response checks of the integration tests all read this list; a test compares it with the routes the app
 * really mounts, both ways.
 */
export const GATEWAY_ENDPOINTS: readonly AnyEndpoint[] = [
  ...APP_ENDPOINTS,
  ...bullBoardEndpoints,
  ...deadLetterEndpoints,
];
