import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { getContext } from '@raptorflow/core/context/request-context';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { ReplayActor } from '@raptorflow/events/bus/failed-events.service';
import type { Settings } from '@raptorflow/core/config/settings';
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

export interface DeadLettersDeps {
  bus: RaptorBus;
  settings: Settings;
  verifier: TokenVerifier;
  /** Failed sign-ins per client address; the same one as Bull Board's, so both share one count. */
  loginThrottle: AdminLoginThrottle;
  /** For the outbox and the audit rows; the process-wide pool when omitted. */
  db?: Knex;
  logger?: Logger;
  /** Tests may hand in their own; built from bus and db otherwise. */
  failedEvents?: FailedEventsService;
}

/**
 * Operators' view of dead letters, for the platform admins who may open Bull Board (same credentials, same
 * realm, so a browser that logged into the board is already in). Mount at DEAD_LETTERS_PATH:
 * `GET /failed` lists them, `POST /:event_id/replay` runs one again (202; the job is queued, not done).
 */
export function deadLettersRouter(deps: DeadLettersDeps): Router {
  const { settings } = deps;
  const service =
    deps.failedEvents ??
    new FailedEventsService({
      bus: deps.bus,
      ...(deps.db ? { db: deps.db } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
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

  router.get('/failed', async (req, res) => {
    const q = parseOrThrow(failedEventsQuery, req.query, 'query');
    const data = await service.listFailed({ limit: q.limit, ...(q.queue ? { queue: q.queue } : {}) });
    // The list shape of the API; failed sets are read newest-first in one go, so there is no next page.
    res.set('Cache-Control', 'no-store').json({ data, next_cursor: null });
  });

  router.post('/:event_id/replay', async (req, res) => {
    const { event_id } = parseOrThrow(replayParams, req.params, 'path');
    // A Bearer admin is in the context (requireAdmin put it there); a basic-auth operator has no user id.
    const actor: ReplayActor = getContext()?.userId
      ? { type: 'user', id: getContext()!.userId! }
      : { type: 'system', id: `basic:${settings.bullBoard.username ?? 'admin'}` };
    const result = await service.replay(event_id, { actor });
    res.status(202).json(result);
  });
  return router;
}
