import { Router } from 'express';
import { z } from 'zod';
import type { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { getContext } from '@raptorflow/core/context/request-context';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { ReplayActor } from '@raptorflow/events/bus/failed-events.service';
import type { Settings } from '@raptorflow/core/config/settings';
import { endpointFactory } from '../http/endpoint';
import { mountEndpoints } from '../http/endpoint-mount';
import { list } from '../openapi/openapi.helpers';
import { requireAdmin } from './admin-auth.middleware';
import type { TokenVerifier } from './admin-auth.middleware';
import type { AdminLoginThrottle } from './admin-login-throttle.service';
import { BULL_BOARD_REALM } from './bull-board';

export const DEAD_LETTERS_PATH = '/admin/events';

export const failedEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  queue: z.enum(QUEUE_NAMES).optional(),
});

export const replayParams = z.object({ event_id: z.uuid() });

const failedEventSchema = z
  .object({
    event_id: z.uuid(),
    event_type: z.string().meta({ example: 'agent.run.requested' }),
    queue: z.enum(QUEUE_NAMES),
    workspace_id: z.uuid().nullable(),
    attempts_made: z.number().int(),
    failed_reason: z.string().nullable(),
    failed_at: z.string().nullable(),
  })
  .meta({ id: 'FailedEvent' });

const replayResultSchema = z.object({
  event_id: z.uuid(),
  replayed_from: z.enum(['failed_set', 'outbox']),
});

export interface DeadLetterRoutesDeps {
  failedEvents: FailedEventsService;
  /** The basic-auth user names a replay's actor when no platform admin's token is in the request. */
  basicUsername: string | undefined;
}

const define = endpointFactory<DeadLetterRoutesDeps>();

/**
 * Operators' view of dead letters, for the platform admins who may open Bull Board (same credentials, same
 * realm, so a browser that logged into the board is already in).
 */
export const deadLetterEndpoints = [
  define({
    method: 'get',
    path: `${DEAD_LETTERS_PATH}/failed`,
    role: 'platform-admin',
    tags: ['admin'],
    summary: 'Events that failed for good, newest first, across the queues (platform admins)',
    query: failedEventsQuery,
    responses: { 200: { schema: list(failedEventSchema), description: 'One page; `next_cursor` is null' } },
    handler: async ({ res, query }, { failedEvents }) => {
      const data = await failedEvents.listFailed({
        limit: query.limit,
        ...(query.queue ? { queue: query.queue } : {}),
      });
      // The list shape of the API; failed sets are read newest-first in one go, so there is no next page.
      res.set('Cache-Control', 'no-store').json({ data, next_cursor: null });
    },
  }),
  define({
    method: 'post',
    path: `${DEAD_LETTERS_PATH}/:event_id/replay`,
    role: 'platform-admin',
    tags: ['admin'],
    summary: 'Run a failed event again (platform admins); audited',
    params: replayParams,
    responses: { 202: { schema: replayResultSchema, description: 'Queued again (not yet done)' } },
    errors: [404, 409, 503],
    handler: async ({ res, params }, { failedEvents, basicUsername }) => {
      // A Bearer admin is in the context (requireAdmin put it there); a basic-auth operator has no user id.
      const userId = getContext()?.userId;
      const actor: ReplayActor = userId
        ? { type: 'user', id: userId }
        : { type: 'system', id: `basic:${basicUsername ?? 'admin'}` };
      res.status(202).json(await failedEvents.replay(params.event_id, { actor }));
    },
  }),
];

export interface DeadLettersDeps {
  settings: Settings;
  verifier: TokenVerifier;
  /** Failed sign-ins per client address; the same one as Bull Board's, so both share one count. */
  loginThrottle: AdminLoginThrottle;
  logger?: Logger;
  failedEvents: FailedEventsService;
}

/**
 * Mount at DEAD_LETTERS_PATH. Admin auth covers the whole prefix, so an unknown path under it is refused
 * like the known ones rather than told apart.
 */
export function deadLettersRouter(deps: DeadLettersDeps): Router {
  const { settings } = deps;
  const { failedEvents } = deps;
  const router = Router();
  router.use(
    requireAdmin({
      basic: settings.bullBoard,
      adminUserIds: settings.adminUserIds,
      verifier: deps.verifier,
      throttle: deps.loginThrottle,
      realm: BULL_BOARD_REALM,
      ...(deps.logger ? { logger: deps.logger } : {}),
    }),
  );
  mountEndpoints(router, deadLetterEndpoints, {
    prefix: DEAD_LETTERS_PATH,
    services: { failedEvents, basicUsername: settings.bullBoard.username },
  });
  return router;
}
