// bench/gateway's layered servers: one process, one port per level, each level the previous one plus one
// real gateway layer (the same middleware and services app.ts mounts, built the same way), ending with the
// whole app from createApp. Every level answers GET /v1/agents with the same body, so the drop in req/s from
// one level to the next is that layer's cost. One process rather than one per level: starting a dozen
// gateways would eat the bench's time budget, and idle servers cost the measured one nothing.
// Prints {"levels": [{"name", "port"}, ...]} when every level listens; SIGTERM stops it.
import express from 'express';
import { createServer } from 'node:http';
import type { Express, RequestHandler } from 'express';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AgentRegistryService } from '@raptorflow/data/domain/agent-registry.service';
import { createDatabase } from '@raptorflow/core/db/database';
import { createLogger } from '@raptorflow/core/logging/logger';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getSettings } from '@raptorflow/core/config/settings';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { BODY_LIMIT, createApp } from '../services/gateway/src/app';
import { agentEndpoints } from '../services/gateway/src/agents/agents.routes';
import { AgentListCache } from '../services/gateway/src/agents/agent-list.cache';
import { requireAuth } from '../services/gateway/src/auth/auth.middleware';
import { JwtVerifier } from '../services/gateway/src/auth/jwt-verifier';
import { edgeMiddlewares } from '../services/gateway/src/edge/edge.middleware';
import { jsonBody } from '../services/gateway/src/edge/json-body.middleware';
import { rateLimitPerUser, rateLimitPerWorkspace } from '../services/gateway/src/edge/rate-limit.middleware';
import { RateLimiter } from '../services/gateway/src/edge/rate-limiter.service';
import { correlationMiddleware } from '../services/gateway/src/http/correlation.middleware';
import { tableEndpoints } from '../services/gateway/src/http/endpoint-mount';
import { EndpointTable } from '../services/gateway/src/http/endpoint-table';
import { handlerChain, underPath } from '../services/gateway/src/http/handler-chain';
import { createGatewayServer } from '../services/gateway/src/http/request-shape';
import { errorMiddleware } from '../services/gateway/src/http/error.middleware';
import { httpMetricsMiddleware } from '../services/gateway/src/http/http-metrics.middleware';
import { requestLoggerMiddleware } from '../services/gateway/src/http/request-logger.middleware';
import { MembershipCache } from '../services/gateway/src/workspaces/membership-cache';
import { MembershipService } from '../services/gateway/src/workspaces/membership.service';
import { WorkspaceGuards } from '../services/gateway/src/workspaces/workspace-access.guard';

/** The layers below the route handler, in the order the levels add them. */
type Layer = 'settings' | 'edge' | 'context' | 'metrics' | 'logger' | 'auth' | 'user-limit' | 'membership';

export const LEVELS = [
  'bare Express 5, same body',
  "+ the gateway's request/response classes",
  '+ app settings (no ETag, no X-Powered-By)',
  '+ edge: security headers, CORS, JSON body',
  '+ correlation id and request context',
  '+ HTTP metrics',
  '+ request logger',
  '+ auth (cached token)',
  '+ per-user rate limit',
  '+ membership (workspace guard)',
  '+ per-workspace rate limit',
  '+ real route handler (agents list cache)',
  'whole gateway (createApp)',
] as const;

const settings = getSettings();
const body = JSON.parse(process.env.BENCH_AGENTS_BODY ?? '{}') as unknown;
const db = createDatabase({ url: settings.databaseUrl, poolMax: 10 });
const redis = createRedis('client');
const logger = createLogger('gateway');
const limiterPrefix = `rl:${settings.queuePrefix.replace(/[{}]/g, '')}`;

const sameBody: RequestHandler = (_req, res) => void res.json(body);

/** A level below the whole app: `layers`, then the fixed body or (realHandler) the agents route itself. */
function layeredApp(layers: ReadonlySet<Layer>, workspaceLimit: boolean, realHandler: boolean): Express {
  const app = express();
  if (layers.has('settings')) {
    app.disable('x-powered-by');
    app.disable('etag');
    app.set('trust proxy', settings.trustProxy);
  }
  // In app.ts's order and, as there, one router layer (handlerChain), whichever of them this level has.
  const front: RequestHandler[] = [
    ...(layers.has('context') ? [correlationMiddleware()] : []),
    ...(layers.has('metrics') ? [httpMetricsMiddleware({ templatedMounts: ['/v1'] })] : []),
    ...(layers.has('logger') ? [requestLoggerMiddleware(logger)] : []),
    ...(layers.has('edge') ? [...edgeMiddlewares(settings), jsonBody(BODY_LIMIT)] : []),
  ];
  if (front.length) app.use(handlerChain(...front));
  // Each level has its own limiter, caches and verifier, as a replica would: no level warms another's.
  const limiter = new RateLimiter({ redis, prefix: limiterPrefix, logger });
  const signedIn: RequestHandler[] = [];
  if (layers.has('auth')) {
    const verifier = new JwtVerifier({
      secret: settings.supabaseJwtSecret,
      audience: settings.jwtAudience,
      supabaseUrl: settings.supabaseUrl,
      cacheMax: settings.tokenCacheMax,
    });
    signedIn.push(requireAuth(verifier));
  }
  if (layers.has('user-limit')) signedIn.push(rateLimitPerUser(limiter, settings.rateLimits.userPerMinute));
  // As app.ts mounts them: the real endpoints in the table behind the /v1 front; the fixed body behind the
  // same front as a layer of its own.
  const signedInFront = signedIn.length ? handlerChain(...signedIn) : undefined;
  if (signedInFront && !(realHandler && layers.has('membership'))) app.use(underPath('/v1', signedInFront));
  const guard: RequestHandler[] = [];
  if (layers.has('membership')) {
    const memberships = new MembershipService({ db, cache: new MembershipCache(settings.membershipCache) });
    const guards = new WorkspaceGuards(memberships, {
      ...(workspaceLimit
        ? { afterResolve: rateLimitPerWorkspace(limiter, settings.rateLimits.workspacePerMinute) }
        : {}),
    });
    if (realHandler) {
      const agentLists = new AgentListCache({ ttlMs: 60_000, max: 10_000 });
      const services = { registry: new AgentRegistryService({ db }), agentLists };
      const table = new EndpointTable();
      tableEndpoints(table, agentEndpoints, { services, guards, front: signedInFront });
      app.use(table.middleware());
      if (signedInFront) app.use(underPath('/v1', signedInFront));
    } else guard.push(guards.requireWorkspaceMember());
  }
  if (!realHandler) app.get('/v1/agents', ...guard, sameBody);
  if (layers.has('auth')) app.use(errorMiddleware(logger));
  return app;
}

function buildLevel(index: number): Express {
  if (index <= 1) {
    const app = express();
    app.get('/v1/agents', sameBody);
    return app;
  }
  if (index === LEVELS.length - 1) {
    return createApp({
      memoryPath: 'exact',
      settings,
      db,
      bus: new RaptorBus({ db, prefix: settings.queuePrefix }),
      redis,
    });
  }
  const order: Layer[] = [
    'settings',
    'edge',
    'context',
    'metrics',
    'logger',
    'auth',
    'user-limit',
    'membership',
  ];
  const layers = new Set(order.slice(0, Math.min(index - 1, order.length)));
  return layeredApp(layers, index >= 10, index >= 11);
}

async function main(): Promise<void> {
  const levels: { name: string; port: number }[] = [];
  for (let i = 0; i < LEVELS.length; i++) {
    // Level 0 listens as bare Express does; every later level as the gateway does (request-shape.ts).
    const app = buildLevel(i);
    const server = (i === 0 ? createServer(app) : createGatewayServer(app)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    levels.push({ name: LEVELS[i]!, port: (server.address() as AddressInfo).port });
  }
  process.stdout.write(`${JSON.stringify({ levels })}\n`);
}

/**
 * BENCH_GATEWAY_CPU_PROF=<dir>: each SIGUSR2 starts or stops a CPU profile, so the bench can profile exactly
 * one level's measured run (after its warm-up) into <dir>/layer-<n>.cpuprofile, without start-up in it.
 */
function profileOnSignal(dir: string): void {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    const file = path.join(dir, `layer-${count++}.cpuprofile`);
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(file, JSON.stringify(result.profile));
      process.stdout.write(`${JSON.stringify({ profile: err ? String(err) : file })}\n`);
    });
  });
}

if (process.env.BENCH_GATEWAY_CPU_PROF) profileOnSignal(process.env.BENCH_GATEWAY_CPU_PROF);
process.on('SIGTERM', () => process.exit(0));
void main();
