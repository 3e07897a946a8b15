import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import {
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  ValidationFailedError,
} from '@raptorflow/core/errors/app-error';
import { setContextWorkspace } from '@raptorflow/core/context/request-context';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import type { Membership, MembershipService } from './membership.service';

const RANK: Record<WorkspaceRole, number> = { member: 1, admin: 2, owner: 3 };
// z.uuid()'s own pattern (what safeParse would test), without a parse result per request.
const UUID = z.regexes.uuid();

interface Candidate {
  source: string;
  value: string;
}

/** SPEC §6 order: X-Workspace-Id header, then workspace_id query, then :workspace_id path parameter. */
function explicitWorkspaceIds(req: Request): Candidate[] {
  const found: Candidate[] = [];
  const header = req.get('x-workspace-id');
  if (header !== undefined) found.push({ source: 'header.X-Workspace-Id', value: header.trim() });
  // Express parses the query string anew on every read of req.query: a URL without one has none to read.
  const query = req.url.includes('?') ? req.query.workspace_id : undefined;
  if (query !== undefined)
    found.push({ source: 'query.workspace_id', value: typeof query === 'string' ? query : '' });
  const param = req.params.workspace_id;
  if (typeof param === 'string') found.push({ source: 'path.workspace_id', value: param });
  return found;
}

/** The one workspace the request names (lower case), undefined when it names none; 422 when it is ambiguous. */
function requestedWorkspaceId(req: Request): string | undefined {
  // The usual request names its workspace in the header alone: the same checks without the lists.
  const header = req.headers['x-workspace-id'];
  if (typeof header === 'string' && !req.url.includes('?') && typeof req.params.workspace_id !== 'string') {
    const value = header.trim();
    if (UUID.test(value)) return value.toLowerCase();
  }
  const ids = explicitWorkspaceIds(req);
  if (ids.length === 0) return undefined;
  const malformed = ids.filter((c) => !UUID.test(c.value));
  if (malformed.length)
    throw new ValidationFailedError(
      'Workspace id must be a UUID',
      malformed.map((c) => ({ path: c.source, message: 'must be a UUID' })),
    );
  const distinct = new Set(ids.map((c) => c.value.toLowerCase()));
  if (distinct.size > 1)
    throw new ValidationFailedError(
      'The request names more than one workspace',
      ids.map((c) => ({
        path: c.source,
        message: 'conflicts with another workspace id in the request',
      })),
    );
  return ids[0]!.value.toLowerCase();
}

export interface WorkspaceGuardsOptions {
  /** Runs once the workspace is resolved (the per-workspace rate limit hangs here, for every scoped route). */
  afterResolve?: RequestHandler;
}

export class WorkspaceGuards {
  constructor(
    private readonly memberships: MembershipService,
    private readonly opts: WorkspaceGuardsOptions = {},
  ) {}

  /** Resolves the request's workspace and proves the caller belongs to it; every later query uses req.workspace. */
  requireWorkspaceMember(): RequestHandler {
    const cache = this.memberships.cache;
    const admit = (
      req: Request,
      res: Response,
      next: NextFunction,
      explicit: string | undefined,
      membership: Membership | undefined,
    ) => {
      if (!membership) {
        if (explicit) throw new PermissionDeniedError('You are not a member of this workspace');
        throw new NotFoundError(
          'You are not a member of any workspace yet; create one with POST /v1/workspaces',
        );
      }
      req.workspace = { id: membership.workspaceId, role: membership.role };
      setContextWorkspace(membership.workspaceId, membership.role);
      if (this.opts.afterResolve) return this.opts.afterResolve(req, res, next);
      next();
    };
    // Not an async function: a membership the cache holds (nearly every request) is decided without a promise.
    return (req, res, next) => {
      let userId: string;
      let explicit: string | undefined;
      let cached: Membership | null | undefined;
      try {
        userId = this.callerOf(req);
        explicit = requestedWorkspaceId(req);
        cached = cache.peek(userId, explicit);
        if (cached !== undefined) return admit(req, res, next, explicit, cached ?? undefined);
      } catch (err) {
        return next(err);
      }
      const load = explicit ? this.memberships.find(userId, explicit) : this.memberships.oldest(userId);
      return load.then((membership) => admit(req, res, next, explicit, membership)).catch(next);
    };
  }

  private callerOf(req: Request): string {
    const userId = req.auth?.userId;
    if (!userId) throw new UnauthenticatedError();
    return userId;
  }

  /** Use after requireWorkspaceMember(); roles are hierarchical (owner > admin > member). */
  requireWorkspaceRole(...allowed: WorkspaceRole[]): RequestHandler {
    const min = Math.min(...allowed.map((r) => RANK[r]));
    return (req, _res, next) => {
      const role = req.workspace?.role;
      if (!role) return next(new UnauthenticatedError());
      if (RANK[role] < min)
        return next(
          new PermissionDeniedError(`This needs the ${allowed.join(' or ')} role; you are ${role}`),
        );
      next();
    };
  }
}
