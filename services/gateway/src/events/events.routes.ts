import { Router } from 'express';
import { EVENT_CATALOG, isEventType } from '@raptorflow/events/bus/event-catalog';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { EventPayload } from '@raptorflow/events/bus/event-catalog';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { publishEventBody } from './event.schemas';

/** Smoke publishing for operators: `test.*` events only, into the caller's resolved workspace. */
export function eventsRouter(deps: { bus: RaptorBus; guards: WorkspaceGuards }): Router {
  const router = Router();
  router.post(
    '/',
    deps.guards.requireWorkspaceMember(),
    deps.guards.requireWorkspaceRole('admin'),
    async (req, res) => {
      const body = parseOrThrow(publishEventBody, req.body ?? {}, 'body');
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
      const envelope = await deps.bus.publish(type, body.payload as EventPayload<typeof type>, {
        workspaceId: req.workspace!.id,
      });
      res.status(202).json({ event_id: envelope.event_id, event_type: type });
    },
  );
  return router;
}
