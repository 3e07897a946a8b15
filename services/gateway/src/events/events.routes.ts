import { EVENT_CATALOG, isEventType } from '@raptorflow/events/bus/event-catalog';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { EventPayload } from '@raptorflow/events/bus/event-catalog';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { endpointFactory } from '../http/endpoint';
import { publishEventBody, publishEventResponse } from './event.schemas';

export interface EventRoutesDeps {
  bus: RaptorBus;
}

const define = endpointFactory<EventRoutesDeps>();

/** Smoke publishing for operators: `test.*` events only, into the caller's resolved workspace. */
export const eventEndpoints = [
  define({
    method: 'post',
    path: '/v1/events',
    role: 'admin',
    tags: ['events'],
    summary: 'Publish a test.* smoke event (admin+)',
    body: publishEventBody,
    bodyExample: { event_type: 'test.event', payload: { message: 'hi' } },
    responses: { 202: { schema: publishEventResponse, description: 'Accepted onto the bus' } },
    handler: async ({ req, res, body }, { bus }) => {
      const type = body.event_type;
      if (!isEventType(type))
        throw new ValidationFailedError(`Unknown event type ${type}`, [
          {
            path: 'body.event_type',
            message: `must be one of ${Object.keys(EVENT_CATALOG)
              .filter((e) => e.startsWith('test.'))
              .join(', ')}`,
          },
        ]);
      // Checked here against the event's own schema so a 422 names `body.payload.<field>` like every other
      // body field (the bus checks it again, but names it from the payload's root).
      const payload = parseOrThrow(EVENT_CATALOG[type].schema, body.payload, 'body.payload');
      const envelope = await bus.publish(type, payload as EventPayload<typeof type>, {
        workspaceId: req.workspace!.id,
      });
      res.status(202).json({ event_id: envelope.event_id, event_type: type });
    },
  }),
];
