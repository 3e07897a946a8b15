import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { getSettings } from '@raptorflow/core/config/settings';
import { runWorkerService } from '@raptorflow/events/worker/service-runner';
import { ModelRouter, warnAboutRetirements } from '@raptorflow/llm/model-router';
import { createLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import { AgentRunService } from './agent-run.service';
import { createAgentRunnerWorker } from './agent-runner.worker';
import { RunAgentResolver } from './run-agent-resolver.service';
import { RunControlRegistry } from './run-control.registry';
import { RunLeaseService } from './run-lease.service';
import { RunSweeper } from './run-sweeper.service';

const settings = getSettings();
// Checkpoints get their own small pool, so a burst of checkpoint writes never starves the run bookkeeping.
const checkpointPool = new pg.Pool({
  connectionString: settings.databaseUrl,
  max: settings.agentRuns.checkpointPoolMax,
  application_name: 'raptorflow-checkpoints',
});
checkpointPool.on('error', () => undefined);
const controls = new RunControlRegistry();
const sweeper = new RunSweeper();

runWorkerService({
  service: 'agent-runner',
  port: settings.workerPorts.agentRunner,
  models: () => {
    const router = new ModelRouter({ settings: getSettings().llm });
    warnAboutRetirements(router, createLogger('agent-runner'));
    return router;
  },
  start: async () => {
    await controls.start();
    sweeper.start();
    // How long a run asked for before its workspace was seeded waits for its agent (AGENT_SEEDING_WAIT_MS).
    const agents = new RunAgentResolver({ seedingWaitMs: settings.agentRuns.seedingWaitMs });
    const lease = new RunLeaseService({
      owner: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      agents,
    });
    const checkpointer = new PostgresSaver(checkpointPool, undefined, { schema: 'langgraph' });
    return [createAgentRunnerWorker(new AgentRunService({ lease, checkpointer, controls }))];
  },
  beforeStop: () => sweeper.stop(),
  afterStop: async () => {
    await controls.close();
    await checkpointPool.end().catch(() => undefined);
  },
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
