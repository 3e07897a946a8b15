import { DynamicStructuredTool } from '@langchain/core/tools';
import { z } from 'zod';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { EVENT_TYPES, isEventType } from '@raptorflow/events/bus/event-catalog';
import type { EventPayload, EventType } from '@raptorflow/events/bus/event-catalog';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import type { ToolContext } from './tool-context';

export const BUS_PUBLISH_TOOL_NAME = 'bus_publish';

export const busPublishInputSchema = z.object({
  // A plain string (not an enum) so an unknown type reaches the tool and is refused with a 422 that the
  // audit wrapper records, instead of failing schema parsing before anything is written.
  event_type: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe(`One of: ${EVENT_TYPES.join(', ')}`),
  payload: z.record(z.string(), z.unknown()).describe("The event's payload, as the event catalog defines it"),
});

export type BusPublishInput = z.input<typeof busPublishInputSchema>;

export interface BusPublishOutput {
  event_id: string;
}

export interface BusPublishToolDeps {
  bus: RaptorBus;
}

export type BusPublishTool = DynamicStructuredTool<
  typeof busPublishInputSchema,
  z.output<typeof busPublishInputSchema>,
  z.input<typeof busPublishInputSchema>,
  BusPublishOutput
>;

/**
 * The Bus Publish Tool: publishes one catalog event on RaptorBus for `ctx` (its workspace, correlation and
 * actor go on the envelope). The payload is checked against the catalog schema by the bus itself.
 * Not a `tool()`: an abort must not report failure while the publish carries on (see the dispatch tool).
 */
export function createBusPublishTool(ctx: ToolContext, deps: BusPublishToolDeps): BusPublishTool {
  return new DynamicStructuredTool({
    name: BUS_PUBLISH_TOOL_NAME,
    description: 'Publishes an event from the RaptorFlow event catalog on the bus and returns its event id.',
    schema: busPublishInputSchema,
    func: async (input): Promise<BusPublishOutput> => {
      const type = input.event_type;
      if (!isEventType(type)) {
        const message = `Unknown event type ${JSON.stringify(type)}`;
        throw new ValidationFailedError(message, [{ path: 'event_type', message }]);
      }
      const { bus } = deps;
      const envelope = await bus.publish(type, input.payload as EventPayload<EventType>, {
        workspaceId: ctx.workspace_id,
        correlationId: ctx.correlation_id,
        actorUserId: ctx.actor_user_id,
      });
      return { event_id: envelope.event_id };
    },
  });
}
