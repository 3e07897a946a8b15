import createClient from 'openapi-fetch';
import type { Client, Middleware } from 'openapi-fetch';
import { ApiError, errorFromResponse } from './errors';
import type { paths } from './schema';

export type Api = Client<paths>;

export interface ApiClientOptions {
  /** The bearer token of the signed-in user, read at each request. */
  getToken: () => string | null;
  /** A 401 to a request that carried a token: the session is over. */
  onUnauthorized?: () => void;
  /** Defaults to the page's fetch; tests pass their own. */
  fetch?: (request: Request) => Promise<Response>;
  baseUrl?: string;
}

/**
 * The typed client over the generated schema. Every request carries `Authorization: Bearer <token>`;
 * workspace-scoped calls pass `X-Workspace-Id` as the typed header parameter (see `ws()`), so a request
 * never names two workspaces (the gateway answers that with a 422).
 */
export function createApiClient(opts: ApiClientOptions): Api {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl ?? '',
    // Late-bound, so a test (or a polyfill) that replaces fetch after start-up is honoured.
    fetch: opts.fetch ?? ((request: Request) => globalThis.fetch(request)),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = opts.getToken();
      if (token && !request.headers.has('authorization'))
        request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
    onResponse({ request, response }) {
      if (response.status === 401 && request.headers.has('authorization')) opts.onUnauthorized?.();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The typed header parameter that scopes a call to a workspace. */
export function ws(workspaceId: string): { 'x-workspace-id': string } {
  return { 'x-workspace-id': workspaceId };
}

type Outcome<T> = { data?: T; error?: unknown; response: Response };

/**
 * The success body, or an ApiError in the gateway's shape (message and correlation id). A request that
 * never got an answer is an ApiError with status 0.
 */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw ApiError.network(err);
  }
  const { data, error, response } = outcome;
  if (!response.ok) {
    if (error !== undefined) throw ApiError.from(response, error);
    throw await errorFromResponse(response);
  }
  return data as T;
}
