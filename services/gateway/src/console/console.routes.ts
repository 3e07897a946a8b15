import { endpointFactory } from '../http/endpoint';
import { routeNotFound } from '../http/error.middleware';
import { consoleConfigSchema, devSessionSchema } from './console.schemas';
import type { ConsoleConfigService } from './console-config.service';
import type { DevSessionService } from './dev-session.service';

export interface ConsoleRoutesDeps {
  devSessions: DevSessionService;
  consoleConfig: ConsoleConfigService;
}

const define = endpointFactory<ConsoleRoutesDeps>();

/** What the console needs before anyone signs in. Role `none`: mounted ahead of /v1's authentication. */
export const consoleEndpoints = [
  define({
    method: 'post',
    path: '/v1/dev/session',
    role: 'none',
    tags: ['console'],
    summary: 'Development sign-in: a token for the fixed development user (development, local clients only)',
    description:
      'Exists only with ENVIRONMENT=development and only for a client on the same machine talking to the ' +
      'gateway directly (no X-Forwarded-For or Forwarded header, a local Host and Origin); for anyone else ' +
      'it answers 404 exactly as an unknown route does.',
    responses: {
      200: { schema: devSessionSchema.meta({ id: 'DevSession' }), description: 'A development token' },
    },
    errors: [404],
    handler: ({ req, res }, { devSessions }) => {
      if (!devSessions.allows(req)) throw routeNotFound(req);
      res.setHeader('Cache-Control', 'no-store');
      res.json(devSessions.open());
    },
  }),
  define({
    method: 'get',
    path: '/v1/console/config',
    role: 'none',
    tags: ['console'],
    summary: 'How the console signs in and whether models are real or the offline stand-in',
    responses: {
      200: { schema: consoleConfigSchema.meta({ id: 'ConsoleConfig' }), description: 'The configuration' },
    },
    handler: ({ req, res }, { consoleConfig }) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(consoleConfig.forRequest(req));
    },
  }),
];
