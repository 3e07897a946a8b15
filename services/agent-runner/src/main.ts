import { getSettings, runWorkerService, scrubSecrets } from '@raptorflow/shared';
import { createAgentRunnerWorker } from './agent-runner.worker';

runWorkerService({
  service: 'agent-runner',
  port: getSettings().workerPorts.agentRunner,
  start: () => [createAgentRunnerWorker()],
}).catch((err: unknown) => {
  console.error(scrubSecrets(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
