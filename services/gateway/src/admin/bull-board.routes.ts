import { z } from 'zod';
import { endpointFactory } from '../http/endpoint';
import { BULL_BOARD_PATH } from './bull-board';

const define = endpointFactory<unknown>();

/**
 * Bull Board is a sub-application (its pages, assets and API under one path) that mountBullBoard mounts
 * itself; it is declared here so the document, the fuzzes and the mounted-routes check know it.
 */
export const bullBoardEndpoints = [
  define({
    method: 'get',
    path: BULL_BOARD_PATH,
    role: 'platform-admin',
    tags: ['admin'],
    summary: 'Bull Board: the queues, their jobs and failures (platform admins or the board credentials)',
    description:
      'Not mounted at all (404) when neither BULL_BOARD_USERNAME/BULL_BOARD_PASSWORD nor ADMIN_USER_IDS is set.',
    responses: { 200: { contentType: 'text/html', schema: z.string(), description: 'The board' } },
    mountedBy: 'mountBullBoard (admin/bull-board.ts)',
  }),
];
