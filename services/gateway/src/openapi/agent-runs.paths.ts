import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  cancelRequestedSchema,
  createRunBodyDoc,
  runAcceptedSchema,
  runDetailSchema,
  runEventsQuery,
  runIdParams,
  runListQuery,
  runSchema,
  runStatsQuery,
  runStatsSchema,
} from '../agent-runs/agent-run.schemas';
import { guardrailsSchema, putGuardrailsBody } from '../guardrails/guardrail.schemas';
import { workspaceIdParams } from '../workspaces/workspace.schemas';
import { ERRORS, errorSchema, json, list, route, workspaceHeader } from './openapi.helpers';

const R = runSchema.meta({ id: 'AgentRun' });
const RD = runDetailSchema.meta({ id: 'AgentRunDetail' });
const ST = runStatsSchema.meta({ id: 'AgentRunStats' });
const G = guardrailsSchema.meta({ id: 'Guardrails' });

const SSE_DESCRIPTION = [
  'Server-Sent Events of the run until it ends. Each event is',
  '`id: <event id>` / `event: status|step.started|step.completed|step.failed` /',
  '`data: {"run_id","type",...,"at"}`; a `status` event carries `status` (queued, running, completed, failed,',
  'cancelled). The stream closes after a terminal status; `: ping` comments arrive every 15 s.',
  'Reconnect with `Last-Event-ID` (or `?last_event_id=`) to receive exactly the events missed.',
  '204 when the run has ended and nothing is left to send after that id.',
].join(' ');

const SSE_EXAMPLE =
  'id: 41\nevent: status\ndata: {"run_id":"…","type":"status","status":"running","at":"2026-11-27T10:00:00.000Z"}\n\n' +
  'id: 42\nevent: step.started\ndata: {"run_id":"…","type":"step.started","step":"plan","position":0,"at":"…"}\n\n';
// A variable, not a literal: route()'s `ok` type only spells out JSON content.
const SSE_RESPONSE = {
  description: 'The event stream',
  content: { 'text/event-stream': { schema: z.string().meta({ example: SSE_EXAMPLE }) } },
};

export function registerAgentRunPaths(registry: OpenAPIRegistry, auth: number[]): void {
  const byId = { headers: workspaceHeader, params: runIdParams };
  route(registry, {
    method: 'post',
    path: '/v1/agent-runs',
    tags: ['agent-runs'],
    summary: "Ask an agent of the Council to run its default flow (members); the run's input is the flow's",
    request: {
      headers: workspaceHeader,
      body: {
        content: {
          'application/json': {
            schema: createRunBodyDoc,
            example: { agent: 'cognition', input: { topic: 'Oat milk in Nordic cafés', depth: 'quick' } },
          },
        },
      },
    },
    ok: [
      202,
      json(runAcceptedSchema, 'Queued; `Location` names the run and `agent.run.requested` is on the bus'),
    ],
    errors: [400, ...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/agent-runs',
    tags: ['agent-runs'],
    summary: 'Run history, newest first (members)',
    request: { headers: workspaceHeader, query: runListQuery },
    ok: [200, json(list(R), 'A page')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/agent-runs/stats',
    tags: ['agent-runs'],
    summary: 'Run statistics over [from, to) of created_at; default the last 30 days (members)',
    request: { headers: workspaceHeader, query: runStatsQuery },
    ok: [200, json(ST, 'Counts, durations of completed runs, spend')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'get',
    path: '/v1/agent-runs/{id}',
    tags: ['agent-runs'],
    summary: 'One run with its steps and model calls (members; another workspace’s run is 404)',
    request: byId,
    ok: [200, json(RD, 'The run')],
    errors: [...auth, 403, 404],
  });
  // route() documents one success; cancel has two (queued → 200 now, running → 202 requested).
  const errors = Object.fromEntries(
    [...auth, 403, 404, 409].map((code) => [code, json(errorSchema, ERRORS[code] ?? 'Error')]),
  );
  registry.registerPath({
    method: 'post',
    path: '/v1/agent-runs/{id}/cancel',
    tags: ['agent-runs'],
    summary: 'Cancel a run (members): a queued one at once, a running one at its next step; 409 once ended',
    security: [{ bearerAuth: [] }],
    request: byId,
    responses: {
      200: json(R, 'It was queued and is now cancelled'),
      202: json(cancelRequestedSchema, 'It is running: the runner is asked to stop (idempotent)'),
      ...errors,
    },
  });
  route(registry, {
    method: 'get',
    path: '/v1/agent-runs/{id}/events',
    tags: ['agent-runs'],
    summary: "The run's progress as Server-Sent Events (members)",
    description: SSE_DESCRIPTION,
    request: {
      ...byId,
      query: runEventsQuery,
      headers: workspaceHeader.extend({
        'last-event-id': z.string().optional().meta({ description: 'The last event id received' }),
      }),
    },
    ok: [200, SSE_RESPONSE],
    errors: [...auth, 403, 404],
  });
  route(registry, {
    method: 'get',
    path: '/v1/workspaces/{workspace_id}/guardrails',
    tags: ['guardrails'],
    summary: "The workspace's guardrails, checked by Arbiter's guardian flow (members)",
    request: { params: workspaceIdParams },
    ok: [200, json(G, 'The rules; empty lists until set')],
    errors: [...auth, 403],
  });
  route(registry, {
    method: 'put',
    path: '/v1/workspaces/{workspace_id}/guardrails',
    tags: ['guardrails'],
    summary: 'Replace the guardrails (admin+); audited with before and after',
    request: {
      params: workspaceIdParams,
      body: {
        content: {
          'application/json': {
            schema: putGuardrailsBody,
            example: { banned_phrases: ['guaranteed results'], required_disclaimers: ['Results may vary.'] },
          },
        },
      },
    },
    ok: [200, json(G, 'The new rules')],
    errors: [400, ...auth, 403],
  });
}
