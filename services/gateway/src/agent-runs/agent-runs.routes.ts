import type { Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import {
  approvalBody,
  approvalDecidedSchema,
  cancelRequestedSchema,
  createRunBody,
  createRunBodyDoc,
  lastEventIdHeader,
  runAcceptedSchema,
  runDetailSchema,
  runEventsQuery,
  runIdParams,
  runListQuery,
  runSchema,
  runStatsQuery,
  runStatsSchema,
} from './agent-run.schemas';
import type { AgentRunQueryService } from './agent-run-query.service';
import type { AgentRunService } from './agent-run.service';
import type { RunApprovalService } from './run-approval.service';
import type { RunCancelService } from './run-cancel.service';
import type { RunEventStreamService } from './run-event-stream.service';

export interface AgentRunRoutesDeps {
  runs: AgentRunService;
  cancels: RunCancelService;
  approvals: RunApprovalService;
  queries: AgentRunQueryService;
  streams: RunEventStreamService;
  cursors: CursorCodec;
}

const AgentRun = runSchema.meta({ id: 'AgentRun' });
const AgentRunDetail = runDetailSchema.meta({ id: 'AgentRunDetail' });
const AgentRunStats = runStatsSchema.meta({ id: 'AgentRunStats' });
const define = endpointFactory<AgentRunRoutesDeps>();

// Runs are looked up inside the request's workspace only: another workspace's run id is simply not found,
// never "forbidden", so ids reveal nothing.
const notFound = () => new NotFoundError('Run not found');

/** A reconnecting EventSource sends Last-Event-ID; it is newer than the query the stream was opened with. */
function lastEventId(req: Request, q: z.output<typeof runEventsQuery>): number {
  const header = req.get('last-event-id')?.trim();
  if (header) return Number(parseOrThrow(lastEventIdHeader, header, 'header.Last-Event-ID'));
  return q.last_event_id === undefined ? 0 : Number(q.last_event_id);
}

const SSE_DESCRIPTION = [
  'Server-Sent Events of the run until it ends. Each event is',
  '`id: <event id>` / `event: status|step.started|step.completed|step.failed` /',
  '`data: {"run_id","type",...,"at"}`; a `status` event carries `status` (queued, running, awaiting_approval,',
  'completed, failed, cancelled). A campaign also gets `child.queued` and `child.finished` (stage, child_run_id),',
  'and a decision `approval.decided`. A live stream also gets `event: step.delta` frames without `id:`',
  '(`step`, `attempt`, `text`: the model text streamed since the last one; not stored, never replayed, the',
  'whole text is in `step.completed`).',
  'The stream closes after a terminal status; `: ping` comments arrive every 15 s.',
  'Reconnect with `Last-Event-ID` (or `?last_event_id=`) to receive exactly the events missed.',
  '204 when the run has ended and nothing is left to send after that id.',
].join(' ');

const SSE_EXAMPLE =
  'id: 41\nevent: status\ndata: {"run_id":"…","type":"status","status":"running","at":"2026-11-27T10:00:00.000Z"}\n\n' +
  'id: 42\nevent: step.started\ndata: {"run_id":"…","type":"step.started","step":"plan","position":0,"at":"…"}\n\n';

/** All members'. Declared in matching order: `/stats` before `/:id`, which would take "stats" for an id. */
export const agentRunEndpoints = [
  define({
    method: 'post',
    path: '/v1/agent-runs',
    role: 'member',
    tags: ['agent-runs'],
    summary: "Ask an agent of the Council to run its default flow (members); the run's input is the flow's",
    body: createRunBody,
    bodyDoc: createRunBodyDoc,
    bodyExample: {
      agent: 'cognition',
      input: { topic: 'Oat milk in Nordic cafés', depth: 'quick' },
      model: 'fast',
    },
    responses: {
      202: {
        schema: runAcceptedSchema,
        description: 'Queued; `Location` names the run and `agent.run.requested` is on the bus',
      },
    },
    handler: async ({ req, res, body }, { runs }) => {
      const run = await runs.create(req.workspace!.id, req.auth!.userId, body);
      res.status(202).location(`/v1/agent-runs/${run.id}`).json(run);
    },
  }),
  define({
    method: 'get',
    path: '/v1/agent-runs',
    role: 'member',
    tags: ['agent-runs'],
    summary: 'Run history, newest first (members)',
    query: runListQuery,
    responses: { 200: { schema: list(AgentRun), description: 'A page' } },
    handler: async ({ req, res, query }, { queries, cursors }) => {
      // The filters are part of the scope: a cursor only continues the listing it came from.
      const { cursor: _c, limit: _l, workspace_id: _w, ...filters } = query;
      const scope = `agent-runs:${req.workspace!.id}:${JSON.stringify(filters)}`;
      const page = await queries.list(req.workspace!.id, query, cursors.decode(query.cursor, scope));
      res.json(toPage(cursors, scope, page));
    },
  }),
  define({
    method: 'get',
    path: '/v1/agent-runs/stats',
    role: 'member',
    tags: ['agent-runs'],
    summary: 'Run statistics over [from, to) of created_at; default the last 30 days (members)',
    query: runStatsQuery,
    responses: { 200: { schema: AgentRunStats, description: 'Counts, durations of completed runs, spend' } },
    handler: async ({ req, res, query }, { queries }) => {
      res.json(await queries.stats(req.workspace!.id, query));
    },
  }),
  define({
    method: 'get',
    path: '/v1/agent-runs/:id',
    role: 'member',
    tags: ['agent-runs'],
    summary: 'One run with its steps and model calls (members; another workspace’s run is 404)',
    params: runIdParams,
    responses: { 200: { schema: AgentRunDetail, description: 'The run' } },
    errors: [404],
    handler: async ({ req, res, params }, { queries }) => {
      const run = await queries.detail(req.workspace!.id, params.id);
      if (!run) throw notFound();
      res.json(run);
    },
  }),
  define({
    method: 'post',
    path: '/v1/agent-runs/:id/cancel',
    role: 'member',
    tags: ['agent-runs'],
    summary:
      'Cancel a run and its child runs (members): a queued or awaiting one at once, a running one at its next step; 409 once ended',
    params: runIdParams,
    responses: {
      200: { schema: AgentRun, description: 'It was queued and is now cancelled' },
      202: {
        schema: cancelRequestedSchema,
        description: 'It is running: the runner is asked to stop (idempotent)',
      },
    },
    errors: [404, 409],
    handler: async ({ req, res, params }, { cancels }) => {
      const outcome = await cancels.cancel(req.workspace!.id, params.id);
      if (outcome.kind === 'cancelled') res.json(outcome.run);
      else res.status(202).json({ id: outcome.id, status: outcome.status, cancel_requested: true });
    },
  }),
  define({
    method: 'post',
    path: '/v1/agent-runs/:id/approval',
    role: 'admin',
    tags: ['agent-runs'],
    summary: 'Decide on a run awaiting approval (owners and admins; audited): approve, reject or edit',
    description:
      'The run resumes on a runner with the decision: `approve` goes on with the content, `edit` with `content` ' +
      'instead, `reject` ends the run `failed` with code `approval_rejected`. 409 when the run is not awaiting approval.',
    params: runIdParams,
    body: approvalBody,
    bodyExample: {
      decision: 'edit',
      content: 'Our oat milk, now in every café. Terms apply.',
      note: 'softer claim',
    },
    responses: { 200: { schema: approvalDecidedSchema, description: 'Recorded; the run is runnable again' } },
    errors: [404, 409],
    handler: async ({ req, res, params, body }, { approvals }) => {
      res.json(await approvals.decide(req.workspace!.id, req.auth!.userId, params.id, body));
    },
  }),
  define({
    method: 'get',
    path: '/v1/agent-runs/:id/events',
    role: 'member',
    tags: ['agent-runs'],
    summary: "The run's progress as Server-Sent Events (members)",
    description: SSE_DESCRIPTION,
    params: runIdParams,
    query: runEventsQuery,
    headers: z.object({
      'last-event-id': z.string().optional().meta({ description: 'The last event id received' }),
    }),
    responses: {
      200: {
        contentType: 'text/event-stream',
        schema: z.string().meta({ example: SSE_EXAMPLE }),
        description: 'The event stream',
      },
      204: { description: 'The run has ended and nothing is left to send after that id' },
    },
    errors: [404],
    handler: async ({ req, res, params, query }, { queries, streams }) => {
      const after = lastEventId(req, query);
      const run = await queries.find(req.workspace!.id, params.id);
      if (!run) throw notFound();
      // The stream is re-checked against this reader's membership for as long as it stays open.
      await streams.open(res, run, after, { userId: req.auth!.userId, workspaceId: req.workspace!.id });
    },
  }),
];
