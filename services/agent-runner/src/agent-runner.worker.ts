import type { Worker } from 'bullmq';
import { createWorker, getSettings } from '@raptorflow/shared';
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
    { ...opts, concurrency: opts.concurrency ?? getSettings().concurrency.agentRunner },
  );
}
