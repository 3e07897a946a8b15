import express from 'express';
import type { Express } from 'express';
import type { Knex } from 'knex';
import {
  AgentRegistryService,
  CursorCodec,
  HealthService,
  correlationMiddleware,
  createLogger,
  errorMiddleware,
  notFoundMiddleware,
  requestLoggerMiddleware,
} from '@raptorflow/shared';
import type { Logger, RaptorBus, Redis, Settings } from '@raptorflow/shared';
import { agentsRouter } from './agents/agents.routes';
import { requireAuth } from './auth/auth.middleware';
import { JwtVerifier } from './auth/jwt-verifier';
import { healthRouter } from './health/health.routes';
import { MembershipService } from './workspaces/membership.service';
import { WorkspaceGuards } from './workspaces/workspace-access.guard';
import { WorkspaceService } from './workspaces/workspace.service';
import { workspacesRouter } from './workspaces/workspaces.routes';

export interface AppDeps {
  settings: Settings;
  db: Knex;
  bus: RaptorBus;
  redis: Redis;
  logger?: Logger;
}

export const BODY_LIMIT = '1mb';

export function createApp(deps: AppDeps): Express {
  const logger = deps.logger ?? createLogger('gateway');
  const app = express();
  app.disable('x-powered-by');

  app.use(correlationMiddleware());
  app.use(requestLoggerMiddleware(logger));
  app.use(express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] }));

  app.use(
    healthRouter(
      new HealthService({ service: 'gateway', db: deps.db, redis: deps.redis, settings: deps.settings }),
    ),
  );

  const verifier = new JwtVerifier({
    secret: deps.settings.supabaseJwtSecret,
    audience: deps.settings.jwtAudience,
  });
  const guards = new WorkspaceGuards(new MembershipService({ db: deps.db }));
  const cursors = new CursorCodec(deps.settings.secretKey);

  const v1 = express.Router();
  v1.use(requireAuth(verifier));
  v1.use(
    '/workspaces',
    workspacesRouter({ workspaces: new WorkspaceService({ db: deps.db, bus: deps.bus }), guards, cursors }),
  );
  v1.use('/agents', agentsRouter({ registry: new AgentRegistryService({ db: deps.db }), guards }));
  app.use('/v1', v1);

  app.use(notFoundMiddleware());
  app.use(errorMiddleware(logger));
  return app;
}
