import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { getContext } from '@raptorflow/core/context/request-context';
import { traceparentOf } from '@raptorflow/core/telemetry/spans';
import type { EventPayload, EventType } from './event-catalog';

/** What travels on the bus: the payload plus who/what/where it came from, so a job can restore context. */
export const envelopeSchema = z.object({
  event_id: z.uuid(),
  event_type: z.string().min(1),
  workspace_id: z.uuid().nullable(),
  correlation_id: z.string().min(1).max(128),
  payload: z.unknown(),
  timestamp: z.iso.datetime({ offset: true }),
  actor_user_id: z.uuid().optional(),
  traceparent: z.string().max(128).optional(),
});

export type Envelope = z.output<typeof envelopeSchema>;
export type TypedEnvelope<E extends EventType> = Omit<Envelope, 'event_type' | 'payload'> & {
  event_type: E;
  payload: EventPayload<E>;
};

export interface EnvelopeOverrides {
  eventId?: string;
  workspaceId?: string | null;
  actorUserId?: string;
  correlationId?: string;
}

export function buildEnvelope<E extends EventType>(
  type: E,
  payload: EventPayload<E>,
  overrides: EnvelopeOverrides = {},
): TypedEnvelope<E> {
  const ctx = getContext();
  const actor = overrides.actorUserId ?? ctx?.userId;
  // The active span (the publish span, when tracing runs) is the consumer's parent; with tracing off, a
  // client's own traceparent is carried as it came.
  const traceparent = traceparentOf() ?? ctx?.traceparent;
  return {
    event_id: overrides.eventId ?? randomUUID(),
    event_type: type,
    workspace_id: overrides.workspaceId !== undefined ? overrides.workspaceId : (ctx?.workspaceId ?? null),
    correlation_id: overrides.correlationId ?? ctx?.correlationId ?? randomUUID(),
    payload,
    timestamp: new Date().toISOString(),
    ...(actor ? { actor_user_id: actor } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}
