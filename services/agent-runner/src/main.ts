// First: tracing must start before the modules it instruments are loaded.
import { tracing } from './tracing.bootstrap';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { getSettings } from '@raptorflow/core/config/settings';
import { getDatabase } from '@raptorflow/core/db/database';
import { getBus } from '@raptorflow/events/bus/raptor-bus';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { MemoryService } from '@raptorflow/memory/memory.service';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { workerOptionsFor } from '@raptorflow/events/worker/worker-settings';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import { startupModelRouter } from '@raptorflow/llm/model-router.factory';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { AgentRunService } from './agent-run.service';
import { FLOWS } from './flows/flow-registry';
import { createAgentRunnerWorker } from './agent-runner.worker';
import { RunAgentResolver } from './run-agent-resolver.service';
import { RunControlRegistry } from './run-control.registry';
import { RunLeaseService } from './run-lease.service';
import { RunMemory } from './run-memory.service';
import { RunSweeper } from './run-sweeper.service';
import { RunTree } from './run-tree.service';
import { ScheduleTickService } from './schedule-tick.service';
import { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import { RunRequestService } from '@raptorflow/events/runs/run-request.service';
import { ScheduleTimerService } from '@raptorflow/events/runs/schedule-timer.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { DispatchTrailService } from '@raptorflow/llm/dispatch-trail.service';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { registerModelRetirement } from '@raptorflow/core/metrics/scrape-gauges';

// The composition root: every object of this process is built here, with its dependencies spelled out.
const settings = getSettings();
const db = getDatabase();
const logger = createLogger('agent-runner');
// Checkpoints get their own small pool, so a burst of checkpoint writes never starves the run bookkeeping.
const checkpointPool = new pg.Pool({
  connectionString: settings.databaseUrl,
  max: settings.agentRuns.checkpointPoolMax,
  application_name: 'raptorflow-checkpoints',
  // A checkpoint write is a transaction over the run's rows. A runner that stalls inside one (a frozen VM, a
  // long pause) would hold those locks and block the claim that took its run over, whose writes to the same
  // rows wait: the server ends such a session once it has sat idle in its transaction for a lease.
  idle_in_transaction_session_timeout: settings.agentRuns.leaseMs,
});
checkpointPool.on('error', () => undefined);
const bus = getBus();
const controls = new RunControlRegistry({ logger });
const events = new RunEventLog({ db, prefix: settings.queuePrefix });
const tree = new RunTree({ db, bus, events, approvalTtlMs: settings.agentRuns.approvalTtlMs });
// A checked-out client whose connection dies (PostgreSQL restarting) emits 'error' on itself, not on the
// pool: unheard, that kills the process. The query in flight fails anyway and the run's job is retried.
checkpointPool.on('connect', (client) => client.on('error', () => undefined));
const sweeper = new RunSweeper({
  db,
  bus,
  leaseMs: settings.agentRuns.leaseMs,
  retentionHours: settings.agentRuns.checkpointRetentionHours,
  logger,
  tree,
});

let router: ModelRouter | undefined;
let memoryPath: MemorySearchPath | undefined;

runWorkerService({
  tracing,
  service: 'agent-runner',
  port: settings.workerPorts.agentRunner,
  // One router for the process: /health's alias table and the dispatcher's routes.
  models: () => (router = startupModelRouter(settings.llm, logger)),
  start: async (runtime) => {
    await controls.start(createRedis('worker'), settings.queuePrefix);
    // The runner is where configured models are called: its /metrics says how long each has left.
    registerModelRetirement(() => router!.retirementDays());
    sweeper.start();
    // How long a run asked for before its workspace was seeded waits for its agent (AGENT_SEEDING_WAIT_MS).
    const agents = new RunAgentResolver({
      runs: new AgentRunRepository(db),
      seedingWaitMs: settings.agentRuns.seedingWaitMs,
    });
    const lease = new RunLeaseService({
      db,
      events,
      owner: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      leaseMs: settings.agentRuns.leaseMs,
      workspaceConcurrency: settings.agentRuns.workspaceConcurrency,
      agents,
      tree,
    });
    const audit = new AuditLogService({ db });
    const budgets = new BudgetLedgerService({
      db,
      defaultBudgetUsd: settings.monthlyWorkspaceBudgetUsd,
      reservationTtlMs: settings.llm.reservationTtlMs,
    });
    const dispatcher = new ModelDispatcher({
      settings: settings.llm,
      router: router!,
      ledger: budgets,
      trail: new DispatchTrailService({ db, bus, audit }),
    });
    // The search path is read once the migrations (and the pgvector index, where it exists) are in place.
    const memoryItems = new MemoryItemRepository(db);
    const memory = new RunMemory({
      memory: new MemoryService({
        db,
        items: memoryItems,
        dispatcher,
        audit,
        path: await detectMemorySearchPath(db),
      }),
      items: memoryItems,
    });
    memoryPath = memory.path;
    logger.info(
      { memory_search_path: memory.path },
      `memory search: ${memory.path === 'pgvector' ? 'pgvector HNSW index' : 'exact scan (no pgvector on this database)'}`,
    );
    const checkpointer = new PostgresSaver(checkpointPool, undefined, { schema: 'langgraph' });
    const runs = new AgentRunService({
      lease,
      checkpointer,
      db,
      events,
      dispatcher,
      audit,
      memory,
      controls,
      tree,
      flows: FLOWS,
      timeoutMs: settings.agentRuns.timeoutMs,
      logger,
    });
    // Schedules fire here: each tick asks for its run the way POST /v1/agent-runs does.
    const schedules = new ScheduleRepository(db);
    const timers = new ScheduleTimerService(bus);
    const restored = await timers.restoreMissing(schedules);
    if (restored > 0) logger.warn({ restored }, 'recreated job schedulers missing from Redis');
    const ticks = new ScheduleTickService({
      db,
      schedules,
      requests: new RunRequestService({ db, bus, events }),
      budgets,
      timers,
      audit,
      logger,
    });
    const tuning = workerOptionsFor('agentRunner', settings);
    return [createAgentRunnerWorker(runs, ticks, { ...runtime, ...tuning })];
  },
  // Read after start(): the path is detected there, once the migrations have run.
  memorySearchPath: () => memoryPath!,
  beforeStop: () => sweeper.stop(),
  afterStop: async () => {
    await controls.close();
    await checkpointPool.end().catch(() => undefined);
  },
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
