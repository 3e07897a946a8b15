import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, RequestHandler } from 'express';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { Settings } from '@raptorflow/core/config/settings';
import { requireAdmin } from './admin-auth.middleware';
import type { TokenVerifier } from './admin-auth.middleware';
import type { AdminLoginThrottle } from './admin-login-throttle.service';

export const BULL_BOARD_PATH = '/admin/queues';
export const BULL_BOARD_REALM = 'RaptorFlow Bull Board';

/**
 * The gateway's edge CSP is `default-src 'none'` (it serves JSON); the board is a React page, so it gets its
 * own policy. 'unsafe-inline' styles: the page has a styled loading placeholder and its bundle injects
 * <style> elements, neither of which can carry a nonce. Its only third-party content is Google Fonts.
 */
export const BULL_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' data: https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** After auth, so refusals keep the edge's stricter headers. */
function boardHeaders(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Content-Security-Policy', BULL_BOARD_CSP);
    // Pages and API answers show job payloads: keep them out of the browser's disk cache. Static assets have
    // hashed names and nothing private, so they stay cacheable.
    if (!req.path.startsWith('/static/')) res.setHeader('Cache-Control', 'no-store');
    next();
  };
}

export interface BullBoardDeps {
  settings: Settings;
  /** Its queues carry the configured prefix, so the board sees the same keys the workers use. */
  bus: RaptorBus;
  verifier: TokenVerifier;
  /** Failed sign-ins per client address; pass the same one to every admin mount. */
  loginThrottle: AdminLoginThrottle;
  logger?: Logger;
}

export interface BullBoardMount {
  mounted: boolean;
  path: string;
}

/**
 * Bull Board over every queue of the event catalog, behind admin auth (basic credentials or a platform
 * admin's JWT). Call it before the app's 404 and error handlers: a refused request is passed to next(err)
 * so it leaves in the project's error shape.
 */
export function mountBullBoard(app: Express, deps: BullBoardDeps): BullBoardMount {
  const { settings, logger } = deps;
  const { username, password } = settings.bullBoard;
  const basicConfigured = username !== undefined && password !== undefined;
  // A board no one can open is only attack surface; leaving it unmounted makes /admin/queues the app's 404,
  // which is what production gets when neither credentials nor admin ids are configured.
  if (!basicConfigured && settings.adminUserIds.length === 0) {
    logger?.warn(
      { path: BULL_BOARD_PATH },
      'Bull Board not mounted: set BULL_BOARD_USERNAME/BULL_BOARD_PASSWORD or ADMIN_USER_IDS',
    );
    return { mounted: false, path: BULL_BOARD_PATH };
  }

  const serverAdapter = new ExpressAdapter();
  // The board's HTML refers to its assets and API relative to this path, so it must be where it is mounted.
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    // QUEUE_NAMES is the catalog's list, so a queue added there shows up here without touching this file.
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.bus.queue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'RaptorFlow queues' } },
  });

  app.use(
    BULL_BOARD_PATH,
    requireAdmin({
      basic: settings.bullBoard,
      adminUserIds: settings.adminUserIds,
      verifier: deps.verifier,
      throttle: deps.loginThrottle,
      realm: BULL_BOARD_REALM,
      ...(logger ? { logger } : {}),
    }),
    boardHeaders(),
    serverAdapter.getRouter(),
  );
  logger?.info(
    { path: BULL_BOARD_PATH, basic_auth: basicConfigured, admin_users: settings.adminUserIds.length },
    'Bull Board mounted',
  );
  return { mounted: true, path: BULL_BOARD_PATH };
}
