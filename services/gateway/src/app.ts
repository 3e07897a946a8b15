import express from 'express';
import type { Express } from 'express';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { DispatchTrailService } from '@raptorflow/llm/dispatch-trail.service';
import { CursorCodec } from '@raptorflow/core/validation/pagination';
import { HealthService } from '@raptorflow/core/health/health.service';
import { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { ModelRouter } from '@raptorflow/llm/model-router';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { correlationMiddleware } from './http/correlation.middleware';
import { httpMetricsMiddleware } from './http/http-metrics.middleware';
import { getMetrics, metricsHandler } from '@raptorflow/core/metrics/metrics';
import { createLogger } from '@raptorflow/core/logging/logger';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { errorMiddleware, notFoundMiddleware } from './http/error.middleware';
import { requestLoggerMiddleware } from './http/request-logger.middleware';
import { AdminLoginThrottle } from './admin/admin-login-throttle.service';
import { mountBullBoard } from './admin/bull-board';
import { DEAD_LETTERS_PATH, deadLettersRouter } from './admin/dead-letters.routes';
import { AgentRunQueryService } from './agent-runs/agent-run-query.service';
import { AgentRunService } from './agent-runs/agent-run.service';
import { RunApprovalService } from './agent-runs/run-approval.service';
import { RunCancelService } from './agent-runs/run-cancel.service';
import { RunRequestService } from '@raptorflow/events/runs/run-request.service';
import { ScheduleTimerService } from '@raptorflow/events/runs/schedule-timer.service';
import { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import { ScheduleService } from './schedules/schedule.service';
import { RunEventHub } from './agent-runs/run-event.hub';
import { RunEventStreamService } from './agent-runs/run-event-stream.service';
import { RunStreamAccess } from './agent-runs/run-stream-access.service';
import { AgentListCache } from './agents/agent-list.cache';
import { AuditLogQueryService } from './audit/audit-log-query.service';
import { requireAuth } from './auth/auth.middleware';
import { JwtVerifier } from './auth/jwt-verifier';
import { ConsoleConfigService } from './console/console-config.service';
import { consoleStatic } from './console/console-static.middleware';
import { DevSessionService } from './console/dev-session.service';
import { CostSummaryService } from './costs/cost-summary.service';
import { BudgetService } from './budgets/budget.service';
import { edgeMiddlewares } from './edge/edge.middleware';
import { jsonBody } from './edge/json-body.middleware';
import { rateLimitPerUser, rateLimitPerWorkspace } from './edge/rate-limit.middleware';
import { RateLimiter } from './edge/rate-limiter.service';
import { GuardrailService } from './guardrails/guardrail.service';
import { MemberService } from './members/member.service';
import { MembershipCache } from './workspaces/membership-cache';
import { MembershipService } from './workspaces/membership.service';
import { WorkspaceGuards } from './workspaces/workspace-access.guard';
import { WorkspaceService } from './workspaces/workspace.service';
import { APP_ENDPOINTS } from './http/endpoints.registry';
import type { GatewayServices } from './http/endpoints.registry';
import type { EndpointRole } from './http/endpoint';
import { tableEndpoints } from './http/endpoint-mount';
import { EndpointTable } from './http/endpoint-table';
import { handlerChain, underPath } from './http/handler-chain';
import { docsAssets } from './openapi/docs.routes';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import { MemoryService } from '@raptorflow/memory/memory.service';

import type { AppDeps } from './app.deps';

export type { AppDeps };

export const BODY_LIMIT = '1mb';

export function createApp(deps: AppDeps): Express {
  const { settings, db, bus } = deps;
  const logger = deps.logger ?? createLogger('gateway');
  const app = express();
  app.disable('x-powered-by');
  // Responses are per-user and per-request; hashing every body for an ETag costs more than it saves.
  app.disable('etag');
  // Which hops may name the client in X-Forwarded-For (TRUST_PROXY): per-address limits count req.ip.
  app.set('trust proxy', settings.trustProxy);

  // One router layer for what every request goes through, in this order (see handlerChain).
  app.use(
    handlerChain(
      correlationMiddleware(),
      // Every route under /v1 is an endpoint of the registry, which names its own template (endpoint-mount.ts).
      httpMetricsMiddleware({ templatedMounts: ['/v1'] }),
      requestLoggerMiddleware(logger),
      ...edgeMiddlewares(settings),
      jsonBody(BODY_LIMIT),
    ),
  );

  const router =
    deps.router ??
    deps.dispatcher?.router ??
    new ModelRouter({ settings: settings.llm, catalog: getModelCatalog(settings.llm.catalogFile) });
  const verifier = new JwtVerifier({
    secret: settings.supabaseJwtSecret,
    audience: settings.jwtAudience,
    supabaseUrl: settings.supabaseUrl,
    cacheMax: settings.tokenCacheMax,
  });
  // Counters live in Redis so every replica enforces the same limits; the braces of the queue prefix are
  // dropped so the keys spread over cluster slots.
  const limiterPrefix = `rl:${settings.queuePrefix.replace(/[{}]/g, '')}`;
  const limiter = new RateLimiter({ redis: deps.redis, prefix: limiterPrefix, logger });
  const invalidations = new InvalidationBus({
    publisher: deps.redis,
    subscriber: deps.subscriber ?? createRedis('worker'),
    namespace: settings.queuePrefix,
    logger,
  });
  const cache = new MembershipCache({ ...settings.membershipCache, invalidations });
  const memberships = new MembershipService({ db, cache });
  const guards = new WorkspaceGuards(memberships, {
    afterResolve: rateLimitPerWorkspace(limiter, settings.rateLimits.workspacePerMinute),
  });
  const prefix = settings.queuePrefix;
  const runEvents = new RunEventLog({ db, redis: deps.redis, prefix });
  const audit = new AuditLogService({ db });
  // Runs are asked for by the API and by schedule ticks (in the runner) through the same service.
  const requests = new RunRequestService({ db, bus, events: runEvents });
  const budgetLedger = new BudgetLedgerService({
    db,
    defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
    reservationTtlMs: settings.llm.reservationTtlMs,
  });
  const dispatcher =
    deps.dispatcher ??
    new ModelDispatcher({
      settings: settings.llm,
      router,
      ledger: budgetLedger,
      trail: new DispatchTrailService({ db, bus, audit }),
    });
  const devSessions = new DevSessionService({
    environment: settings.environment,
    secret: settings.supabaseJwtSecret,
    audience: settings.jwtAudience,
    supabaseUrl: settings.supabaseUrl,
  });
  const services: GatewayServices = {
    health: new HealthService({
      service: 'gateway',
      db,
      redis: deps.redis,
      settings,
      models: () => router.aliasStatus(),
      memorySearchPath: deps.memoryPath,
    }),
    openApiDocument: buildOpenApiDocument(),
    // This port faces clients: in production /metrics answers only with METRICS_TOKEN (404 without one set).
    metrics: metricsHandler(getMetrics().registry),
    metricsAccess: { token: settings.metricsToken, isProduction: settings.isProduction, publicPort: true },
    workspaces: new WorkspaceService({
      db,
      bus,
      audit,
      memberships,
      maxOwnedPerUser: settings.maxWorkspacesPerUser,
    }),
    cursors: new CursorCodec(settings.secretKey),
    members: new MemberService({ db, audit, memberships }),
    budgets: new BudgetService({
      db,
      audit,
      alerts: new BudgetAlertService({
        db,
        bus,
        audit,
        defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
      }),
      defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
    }),
    guardrails: new GuardrailService({ db, audit, logger }),
    registry: new AgentRegistryService({ db }),
    agentLists: new AgentListCache({ ttlMs: 60_000, max: 10_000, invalidations }),
    runs: new AgentRunService({ db, requests, router }),
    cancels: new RunCancelService({ db, bus, events: runEvents, redis: deps.redis, prefix, logger }),
    approvals: new RunApprovalService({ db, bus, events: runEvents, audit }),
    queries: new AgentRunQueryService({ db }),
    schedules: new ScheduleService({
      db,
      schedules: new ScheduleRepository(db),
      requests,
      timers: new ScheduleTimerService(bus),
      router,
      audit,
    }),
    streams: new RunEventStreamService({
      access: new RunStreamAccess({
        memberships,
        invalidations,
        recheckMs: deps.runStreams?.accessCheckMs ?? settings.runStreamAccessCheckMs,
        logger,
      }),
      hub: new RunEventHub({
        db,
        subscriber: deps.runEventsSubscriber,
        prefix,
        pollMs: deps.runStreams?.pollMs,
        logger,
      }),
      events: runEvents,
      heartbeatMs: deps.runStreams?.heartbeatMs,
      logger,
    }),
    audit: new AuditLogQueryService(new AuditLogRepository(db)),
    bus,
    dispatcher,
    costs: new CostSummaryService({ db, ledger: budgetLedger }),
    memory: new MemoryService({
      db,
      items: new MemoryItemRepository(db),
      dispatcher,
      audit,
      path: deps.memoryPath,
    }),
    devSessions,
    consoleConfig: new ConsoleConfigService({
      environment: settings.environment,
      supabaseUrl: settings.supabaseUrl,
      supabaseAnonKey: settings.supabaseAnonKey,
      llm: settings.llm,
      router,
      devSessions,
    }),
  };
  // Which router an endpoint joins follows from its role; the platform-admin ones are mounted below.
  const withRole = (...roles: EndpointRole[]) => APP_ENDPOINTS.filter((e) => roles.includes(e.role));

  // Every endpoint of the app is in one table, one Express layer (http/endpoint-table.ts): the public ones
  // under /v1 (console config, dev session) first, then the signed-in ones behind authentication and the
  // per-user limit (the per-workspace limit runs in the workspace guard, once the workspace is resolved),
  // then the other public ones (health, metrics, docs).
  const publicEndpoints = withRole('none');
  const underV1 = (e: (typeof publicEndpoints)[number]) => e.path.startsWith('/v1/');
  const signedIn = handlerChain(
    requireAuth(verifier),
    rateLimitPerUser(limiter, settings.rateLimits.userPerMinute),
  );
  const table = new EndpointTable();
  tableEndpoints(table, publicEndpoints.filter(underV1), { services });
  tableEndpoints(table, withRole('user', 'member', 'admin', 'owner'), { services, guards, front: signedIn });
  tableEndpoints(
    table,
    publicEndpoints.filter((e) => !underV1(e)),
    { services },
  );
  app.use(table.middleware());
  // Any other path under /v1 still needs a signed-in caller: an unknown one is a 401, not a 404.
  app.use(underPath('/v1', signedIn));
  app.use('/docs/assets', ...docsAssets());
  // One count of failed admin sign-ins per client address, for the board and the dead-letter routes alike.
  const loginThrottle = new AdminLoginThrottle({
    redis: deps.redis,
    prefix: limiterPrefix,
    ...settings.adminLogin,
    ...deps.adminLogin,
  });
  mountBullBoard(app, { settings, bus, verifier, loginThrottle, logger });
  const failedEvents = new FailedEventsService({ bus, db, audit, logger });
  app.use(DEAD_LETTERS_PATH, deadLettersRouter({ settings, verifier, loginThrottle, logger, failedEvents }));
  // Last before the 404: every API path above wins, and the console never answers under them.
  app.use(consoleStatic({ dir: deps.consoleDir, supabaseUrl: settings.supabaseUrl }));

  app.use(notFoundMiddleware());
  app.use(errorMiddleware(logger));
  // Until the subscription is live this replica would miss invalidations from the others: callers wait for
  // it (bounded, see whenReady) before taking traffic.
  app.locals.ready = invalidations.start();
  return app;
}

/** Resolves once the app listens to cache invalidations, or after timeoutMs (then TTLs bound staleness). */
export async function whenReady(app: Express, timeoutMs = 5_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ready = (app.locals.ready as Promise<void>).then(() => true);
  try {
    return await Promise.race([ready, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
