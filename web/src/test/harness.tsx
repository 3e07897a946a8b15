import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { RouteObject } from 'react-router';
import type { ConsoleConfig, Role, Workspace } from '../api/types';
import { SessionProvider } from '../app/session';
import type { Session } from '../app/session';
import { WorkspaceProvider } from '../app/workspace';

/**
 * A stand-in gateway for component tests: handlers by "METHOD /path/{param}", answering real Response
 * objects, and a log of what was asked. Not a mocked module: the components go through the real client.
 */
export type Handler = (req: Request, params: Record<string, string>) => Response | Promise<Response>;

export interface FakeGateway {
  fetch: (request: Request) => Promise<Response>;
  calls: Array<{ method: string; path: string; headers: Headers; body: unknown }>;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function apiError(
  status: number,
  code: string,
  message: string,
  correlationId: string,
  details?: unknown,
) {
  return json(
    { error: { code, message, ...(details ? { details } : {}) }, correlation_id: correlationId },
    status,
    {
      'x-correlation-id': correlationId,
    },
  );
}

export function fakeGateway(handlers: Record<string, Handler>): FakeGateway {
  const calls: FakeGateway['calls'] = [];
  const routes = Object.entries(handlers).map(([key, handler]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    const names: string[] = [];
    const re = new RegExp(
      `^${pattern.replace(/\{(\w+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    return { method, re, names, handler };
  });
  return {
    calls,
    async fetch(request: Request) {
      const url = new URL(request.url);
      const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.clone().text();
      calls.push({
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      for (const r of routes) {
        const m = r.method === request.method ? r.re.exec(url.pathname) : null;
        if (!m) continue;
        const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
        return r.handler(request, params);
      }
      return apiError(404, 'not_found', `No fake for ${request.method} ${url.pathname}`, 'test-404');
    },
  };
}

export const LIVE_CONFIG: ConsoleConfig = {
  environment: 'development',
  auth: { supabase: null, dev_login: true },
  models: {
    stand_in: false,
    aliases: [
      { alias: 'fast', model: 'gemini-3.8-flash', provider: 'gemini', mode: 'live' },
      { alias: 'standard', model: 'gemini-3.1-pro-preview', provider: 'gemini', mode: 'live' },
    ],
    enable_with: [],
  },
};

export const STAND_IN_CONFIG: ConsoleConfig = {
  environment: 'development',
  auth: { supabase: null, dev_login: true },
  models: {
    stand_in: true,
    aliases: [
      { alias: 'fast', model: 'gemini-3.8-flash', provider: 'gemini', mode: 'local' },
      { alias: 'standard', model: 'gemini-3.1-pro-preview', provider: 'gemini', mode: 'local' },
    ],
    enable_with: [
      'GOOGLE_CLOUD_PROJECT (Vertex AI, with Google application default credentials) or GEMINI_API_KEY',
      'ANTHROPIC_API_KEY',
    ],
  },
};

export const WS_ID = '11111111-2222-4333-8444-555555555555';
export const USER_ID = '00000000-0000-4000-8000-00000000de71';

export function workspace(role: Role, extra: Partial<Workspace> = {}): Workspace {
  return { id: WS_ID, name: 'Acme', role, created_at: '2026-11-01T00:00:00.000Z', ...extra };
}

export const SESSION: Session = { token: 't0k3n', userId: USER_ID, email: null, source: 'dev' };

export interface RenderOptions {
  gateway: FakeGateway;
  config?: ConsoleConfig;
  /** Wrap the element in this workspace (the pages' context); omit for screens outside one. */
  workspace?: Workspace;
  path?: string;
  /** The route pattern the element is mounted at (for useParams). */
  route?: string;
  routes?: RouteObject[];
  /** Who is signed in; 'restore' = as the app starts (a stored development session, or Supabase's). */
  session?: Session | null | 'restore';
}

export function renderWithApp(element: ReactElement | null, opts: RenderOptions) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } },
  });
  const wrapped =
    element && opts.workspace ? (
      <WorkspaceProvider workspace={opts.workspace}>{element}</WorkspaceProvider>
    ) : (
      element
    );
  const routes: RouteObject[] = opts.routes ?? [{ path: opts.route ?? '*', element: wrapped }];
  const router = createMemoryRouter(routes, { initialEntries: [opts.path ?? '/'] });
  const utils = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider
        config={opts.config ?? LIVE_CONFIG}
        fetch={opts.gateway.fetch}
        {...(opts.session === 'restore'
          ? {}
          : { initialSession: opts.session === undefined ? SESSION : opts.session })}
      >
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...utils, router, queryClient };
}
