import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

/**
 * One declaration per endpoint. The same object mounts the Express route (http/endpoint-mount.ts: auth,
 * workspace and role guards from `role`, parseOrThrow of params/query/body from the schemas) and documents it
 * in /openapi.json (openapi/openapi.document.ts); the tests read the list to fuzz, to check tenant isolation
 * and to check every 2xx body against `responses`. Adding an endpoint = adding one of these to a feature's
 * `*Endpoints` list (and that list to http/endpoints.registry.ts once per feature).
 */

/**
 * Who may call it. `none`: anyone. `user`: any signed-in user. `member`/`admin`/`owner`: a member of the
 * request's workspace with at least that role (owner > admin > member). `platform-admin`: ADMIN_USER_IDS or
 * the Bull Board credentials.
 */
export type EndpointRole = 'none' | 'user' | 'member' | 'admin' | 'owner' | 'platform-admin';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** The body; omitted when there is none (204). Integration tests check every 2xx body against it. */
  schema?: z.ZodType;
  /** `application/json` unless said otherwise (the run event stream, the metrics text, the docs page). */
  contentType?: string;
  example?: unknown;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface HandlerInput<P, Q, B> {
  req: Request;
  res: Response;
  next: NextFunction;
  /** The parsed path parameters, query and body (undefined when the endpoint declares no schema for one). */
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

export interface Endpoint<
  S = unknown,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: HttpMethod;
  /** The full path in Express syntax (`/v1/agent-runs/:id`); OpenAPI gets it as `{id}`. */
  path: string;
  role: EndpointRole;
  tags: string[];
  summary: string;
  description?: string;
  /** Parsed in this order before the handler runs, after the guards; a failure is a 422 naming the field. */
  params?: P;
  query?: Q;
  body?: B;
  /** Documented instead of `body` when the documented form says more than the parsed one does. */
  bodyDoc?: z.ZodType;
  bodyExample?: unknown;
  /** Request headers documented beyond the derived X-Workspace-Id (e.g. Last-Event-ID). */
  headers?: z.ZodObject;
  responses: Record<number, ResponseSpec>;
  /**
   * Error statuses beyond those `role` and the schemas imply (401/413/422/429 for signed-in routes, 403 for
   * workspace roles, 404 where the workspace may be implicit, 400 with a body).
   */
  errors?: number[];
  /** The handler writes the response itself: statuses, Location headers and the SSE stream vary too much. */
  handler?: (input: HandlerInput<P, Q, B>, services: S) => unknown;
  /** Set instead of a handler for a sub-application that app.ts mounts itself (Bull Board). */
  mountedBy?: string;
}

/** The registry's view of an endpoint: the services it needs are the gateway's (see GatewayServices). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEndpoint<S = any> = Endpoint<S, any, any, any>;

/**
 * `const define = endpointFactory<Deps>()` then `define({...})`: Deps is named once per feature file, the
 * schemas' types are inferred per endpoint (TypeScript cannot infer some type arguments and take others).
 */
export function endpointFactory<S>() {
  return <
    P extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    B extends z.ZodType | undefined = undefined,
  >(
    endpoint: Endpoint<S, P, Q, B>,
  ): Endpoint<S, P, Q, B> => endpoint;
}

/** `/v1/agent-runs/:id` → `/v1/agent-runs/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** Roles that need the request's workspace resolved (and so a membership) before the handler runs. */
export const WORKSPACE_ROLES: readonly EndpointRole[] = ['member', 'admin', 'owner'];
