import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export type WorkspaceRole = 'owner' | 'admin' | 'member';

export interface RequestContext {
  correlationId: string;
  userId?: string;
  workspaceId?: string;
  role?: WorkspaceRole;
  jobId?: string;
  traceparent?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

const CORRELATION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A client's id is kept only when it is safe to log and echo; anything else gets a fresh UUID. */
export function acceptCorrelationId(candidate: unknown): string {
  return typeof candidate === 'string' && CORRELATION_ID.test(candidate) ? candidate : randomUUID();
}

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function getContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Fills in fields (user after auth, workspace after resolution) of the current request's context. */
export function updateContext(patch: Partial<RequestContext>): void {
  const ctx = storage.getStore();
  if (ctx) Object.assign(ctx, patch);
}

/**
 * The signed-in user of the current request's context. Per-request paths (auth) call this rather than
 * updateContext: no patch object, no Object.assign.
 */
export function setContextUser(userId: string): void {
  const ctx = storage.getStore();
  if (ctx) ctx.userId = userId;
}

/** The resolved workspace and the caller's role in it (see setContextUser). */
export function setContextWorkspace(workspaceId: string, role: WorkspaceRole): void {
  const ctx = storage.getStore();
  if (ctx) {
    ctx.workspaceId = workspaceId;
    ctx.role = role;
  }
}

export function getCurrentUserId(): string | undefined {
  return storage.getStore()?.userId;
}

export function getCurrentWorkspaceId(): string | undefined {
  return storage.getStore()?.workspaceId;
}

export function getCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
