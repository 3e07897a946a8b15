import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import type { CreateWorkerOptions, EventHandler } from '@raptorflow/events/worker/worker-runtime';
import type { Worker } from 'bullmq';
import type { SeederService } from './seeder.service';

export function seederHandlers(service: SeederService) {
  const handleWorkspaceCreated: EventHandler<'workspace.created'> = (payload, { envelope }) =>
    service.seedWorkspace(payload.workspace_id, envelope.event_id);
  const handleTestEvent: EventHandler<'test.event'> = (payload, { envelope }) =>
    service.recordTestEvent(envelope, payload);
  return { handleWorkspaceCreated, handleTestEvent };
}

/** The seeder consumes two queues: `workspace` (seeding) and `system` (smoke events). */
export function createSeederWorkers(service: SeederService, opts: CreateWorkerOptions): Worker[] {
  const h = seederHandlers(service);
  return [
    createWorker('workspace', { 'workspace.created': h.handleWorkspaceCreated }, opts),
    createWorker('system', { 'test.event': h.handleTestEvent }, opts),
  ];
}
