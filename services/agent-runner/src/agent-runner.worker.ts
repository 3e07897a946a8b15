import type { Worker } from 'bullmq';
import { createWorker, workerOptionsFor } from '@raptorflow/shared';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/shared';
import { AgentRunService } from './agent-run.service';

export function createAgentRunnerWorker(
  service = new AgentRunService(),
  opts: CreateWorkerOptions = {},
): Worker {
  const handleAgentRunRequested: EventHandler<'agent.run.requested'> = (payload, { envelope }) =>
    service.execute(payload.agent_run_id, envelope.workspace_id);
  return createWorker(
    'agent',
    { 'agent.run.requested': handleAgentRunRequested },
    { ...workerOptionsFor('agentRunner'), ...opts },
  );
}
