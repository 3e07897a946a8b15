import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { getSettings } from '../config/settings';
import type { Settings } from '../config/settings';
import { getContext } from '../context/request-context';
import { scrubSecrets } from './scrub';
import { activeTraceIds } from '../telemetry/spans';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'secret',
  'apiKey',
  'api_key',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.api_key',
  '*.secretKey',
  '*.supabaseJwtSecret',
  '*.anthropicApiKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

let root: Logger | undefined;

function errSerializer(err: unknown): unknown {
  const base = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof base.message === 'string') base.message = scrubSecrets(base.message);
  if (typeof base.stack === 'string') base.stack = scrubSecrets(base.stack);
  return base;
}

/**
 * Builds a logger with the project's redaction, serializers and context mixin. `destination` is for tests;
 * with it the output is always JSON.
 */
export function buildLogger(
  settings: Pick<Settings, 'logLevel' | 'logFormat' | 'environment'>,
  destination?: DestinationStream,
): Logger {
  const pretty = settings.logFormat === 'pretty' && !destination;
  const options: LoggerOptions = {
    level: settings.logLevel,
    base: { env: settings.environment },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errSerializer, error: errSerializer },
    mixin() {
      const ids = activeTraceIds();
      const ctx = getContext();
      if (!ctx) return ids ?? {};
      return {
        ...ids,
        correlation_id: ctx.correlationId,
        ...(ctx.workspaceId ? { workspace_id: ctx.workspaceId } : {}),
        ...(ctx.userId ? { user_id: ctx.userId } : {}),
        ...(ctx.jobId ? { job_id: ctx.jobId } : {}),
      };
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              translateTime: 'SYS:HH:MM:ss.l',
              singleLine: true,
              ignore: 'pid,hostname,env',
            },
          },
        }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The process-wide logger; each line carries the ids of the request or job it was written under. */
export function getLogger(): Logger {
  if (root) return root;
  const settings = getSettings();
  root = buildLogger(settings);
  if (settings.defaultsUsed.length > 0) {
    root.info(
      { defaults: settings.defaultsUsed },
      `development defaults used for: ${settings.defaultsUsed.join(', ')}`,
    );
  }
  return root;
}

export function createLogger(component: string): Logger {
  return getLogger().child({ component });
}
