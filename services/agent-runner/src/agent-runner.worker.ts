import type { Worker } from 'bullmq';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/events/worker/worker-runtime';
import type { AgentRunService } from './agent-run.service';
import type { ScheduleTickService } from './schedule-tick.service';

/** A tick job's time: BullMQ stores it in the job's options and in its id (`repeat:<scheduler>:<millis>`). */
export function tickTimeOf(job: { id?: string; opts: { prevMillis?: number } }): Date {
  const fromId = Number(job.id?.split(':').at(-1));
  const millis = typeof job.opts.prevMillis === 'number' ? job.opts.prevMillis : fromId;
  if (!Number.isFinite(millis)) throw new Error(`schedule.tick job ${job.id ?? '?'} carries no tick time`);
  return new Date(millis);
}

export function createAgentRunnerWorker(
  service: AgentRunService,
  ticks: ScheduleTickService,
  opts: CreateWorkerOptions,
): Worker {
  const handleAgentRunRequested: EventHandler<'agent.run.requested'> = (payload, { job }) =>
    // attemptsMade counts finished attempts: this one is the last when one more would reach the limit.
    service.execute(payload.agent_run_id, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
  const handleScheduleTick: EventHandler<'schedule.tick'> = (payload, { job }) =>
    ticks.fire(payload.schedule_id, tickTimeOf(job));
  return createWorker(
    'agent',
    { 'agent.run.requested': handleAgentRunRequested, 'schedule.tick': handleScheduleTick },
    opts,
  );
}
