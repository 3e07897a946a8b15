import { getSettings } from '@raptorflow/core/config/settings';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { Settings } from '@raptorflow/core/config/settings';
import { createApp, whenReady } from '../../services/gateway/src/app';
import { createGatewayServer } from '../../services/gateway/src/http/request-shape';
import { listen } from './http';
import type { TestStack } from './stack';

/** The real gateway app over the test file's database, Redis and queue prefix, subscribed and ready. */
export async function gatewayApp(
  stack: TestStack,
  settings: Settings = getSettings(),
  extra: { consoleDir?: string } = {},
) {
  const app = createApp({
    ...extra,
    settings,
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
  });
  if (!(await whenReady(app))) throw new Error('the gateway did not subscribe to cache invalidations');
  return app;
}

/** The real gateway app on a random port, on the request and response classes main.ts listens with. */
export async function startGateway(
  stack: TestStack,
  settings: Settings = getSettings(),
  extra: { consoleDir?: string } = {},
) {
  return listen(await gatewayApp(stack, settings, extra), createGatewayServer);
}

/**
 * Starts the gateway before the file's tests and stops it (and the stack) after them. Returns a getter, as
 * the URL is only known once beforeAll has run.
 */
export function useGateway(stack: TestStack, settings?: () => Settings): { url: () => string } {
  let server: { url: string; close: () => Promise<void> } | undefined;
  beforeAll(async () => {
    server = await startGateway(stack, settings?.());
  });
  afterAll(async () => {
    await server?.close();
    await stack.close();
  });
  return {
    url: () => {
      if (!server) throw new Error('the gateway has not started');
      return server.url;
    },
  };
}

export function expectError(res: { status: number; body: any }, status: number, code: string): void {
  if (res.status !== status)
    throw new Error(`expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) }),
    correlation_id: expect.any(String),
  });
  expect(Object.keys(res.body).sort()).toEqual(['correlation_id', 'error']);
  expect(Object.keys(res.body.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
}
