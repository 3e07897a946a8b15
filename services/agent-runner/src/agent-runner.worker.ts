import type { Worker } from 'bullmq';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/events/worker/worker-runtime';
import type { AgentRunService } from './agent-run.service';

export function createAgentRunnerWorker(service: AgentRunService, opts: CreateWorkerOptions): Worker {
  const handleAgentRunRequested: EventHandler<'agent.run.requested'> = (payload, { job }) =>
    // attemptsMade counts finished attempts: this one is the last when one more would reach the limit.
    service.execute(payload.agent_run_id, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
  return createWorker('agent', { 'agent.run.requested': handleAgentRunRequested }, opts);
}
