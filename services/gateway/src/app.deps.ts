import type { Knex } from 'knex';
import type { Settings } from '@raptorflow/core/config/settings';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import type { ModelRouter } from '@raptorflow/llm/model-router';

/** What createApp (app.ts) is built from: main.ts wires these; tests pass fakes of the providers. */
export interface AppDeps {
  settings: Settings;
  db: Knex;
  bus: RaptorBus;
  /** Fail-fast connection for health pings, rate limits and cache invalidation broadcasts. */
  redis: Redis;
  /** Subscriber connection for cache invalidations from other replicas; made from settings when omitted. */
  subscriber?: Redis;
  logger?: Logger;
  /** Tests pass one wired to fake provider servers; built from settings when omitted. */
  dispatcher?: ModelDispatcher;
  /** The alias table (on /health, and for run requests); the dispatcher's, or built from settings. */
  router?: ModelRouter;
  /** Subscriber connection for run progress (SSE); made when the first stream opens when omitted. */
  runEventsSubscriber?: Redis;
  /** SSE timings (fallback poll, heartbeat, membership re-check); tests shorten them. */
  runStreams?: { pollMs?: number; heartbeatMs?: number; accessCheckMs?: number };
  /** Failed admin sign-ins allowed per client address and window; settings when omitted. */
  adminLogin?: { maxFailures?: number; windowMs?: number };
  /** How memory search runs on this database: detectMemorySearchPath(db) after the migrations. */
  memoryPath: MemorySearchPath;
  /**
   * The console's Vite build (web/dist), served at `/` when its index.html exists; main.ts passes the
   * repository's. Omitted: no console, and `/` says how to build one.
   */
  consoleDir?: string;
}
