import { Router } from 'express';
import type { Request } from 'express';
import { NotFoundError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import {
  createRunBody,
  lastEventIdHeader,
  runEventsQuery,
  runIdParams,
  runListQuery,
  runStatsQuery,
} from './agent-run.schemas';
import type { AgentRunQueryService } from './agent-run-query.service';
import type { AgentRunService } from './agent-run.service';
import type { RunEventStreamService } from './run-event-stream.service';

export interface AgentRunRoutesDeps {
  runs: AgentRunService;
  queries: AgentRunQueryService;
  streams: RunEventStreamService;
  guards: WorkspaceGuards;
  cursors: CursorCodec;
}

// Runs are looked up inside the request's workspace only: another workspace's run id is simply not found,
// never "forbidden", so ids reveal nothing.
const notFound = () => new NotFoundError('Run not found');

/** A reconnecting EventSource sends Last-Event-ID; it is newer than the query the stream was opened with. */
function lastEventId(req: Request): number {
  const q = parseOrThrow(runEventsQuery, req.query, 'query');
  const header = req.get('last-event-id')?.trim();
  if (header) return Number(parseOrThrow(lastEventIdHeader, header, 'header.Last-Event-ID'));
  return q.last_event_id === undefined ? 0 : Number(q.last_event_id);
}

/** Mounted at /v1/agent-runs (members). */
export function agentRunsRouter({ runs, queries, streams, guards, cursors }: AgentRunRoutesDeps): Router {
  const router = Router();
  router.use(guards.requireWorkspaceMember());

  router.post('/', async (req, res) => {
    const body = parseOrThrow(createRunBody, req.body ?? {}, 'body');
    const run = await runs.create(req.workspace!.id, req.auth!.userId, body);
    res.status(202).location(`/v1/agent-runs/${run.id}`).json(run);
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(runListQuery, req.query, 'query');
    // The filters are part of the scope: a cursor only continues the listing it came from.
    const { cursor: _c, limit: _l, workspace_id: _w, ...filters } = q;
    const scope = `agent-runs:${req.workspace!.id}:${JSON.stringify(filters)}`;
    const page = await queries.list(req.workspace!.id, q, cursors.decode(q.cursor, scope));
    res.json(toPage(cursors, scope, page));
  });

  // Before /:id, which would otherwise take "stats" for a run id.
  router.get('/stats', async (req, res) => {
    const q = parseOrThrow(runStatsQuery, req.query, 'query');
    res.json(await queries.stats(req.workspace!.id, q));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parseOrThrow(runIdParams, req.params, 'path');
    const run = await queries.detail(req.workspace!.id, id);
    if (!run) throw notFound();
    res.json(run);
  });

  router.post('/:id/cancel', async (req, res) => {
    const { id } = parseOrThrow(runIdParams, req.params, 'path');
    const outcome = await runs.cancel(req.workspace!.id, id);
    if (outcome.kind === 'cancelled') res.json(outcome.run);
    else res.status(202).json({ id: outcome.id, status: outcome.status, cancel_requested: true });
  });

  router.get('/:id/events', async (req, res) => {
    const { id } = parseOrThrow(runIdParams, req.params, 'path');
    const after = lastEventId(req);
    const run = await queries.find(req.workspace!.id, id);
    if (!run) throw notFound();
    // The stream is re-checked against this reader's membership for as long as it stays open.
    await streams.open(res, run, after, { userId: req.auth!.userId, workspaceId: req.workspace!.id });
  });

  return router;
}
