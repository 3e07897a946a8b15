import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import { createRunBodyDoc } from '../agent-runs/agent-run.schemas';
import {
  createScheduleBody,
  scheduleIdParams,
  scheduleListQuery,
  scheduleSchema,
  updateScheduleBody,
} from './schedule.schemas';
import type { ScheduleService } from './schedule.service';

export interface ScheduleRoutesDeps {
  schedules: ScheduleService;
  cursors: CursorCodec;
}

const Schedule = scheduleSchema.meta({ id: 'Schedule' });
const define = endpointFactory<ScheduleRoutesDeps>();

/** The documented body: `input` as one of the flow inputs (checked against the agent's flow). */
const createScheduleBodyDoc = createScheduleBody.extend({ input: createRunBodyDoc.shape.input });

/**
 * Members read; admins and owners write (a schedule spends the workspace's budget unattended). Another
 * workspace's schedule is 404, like a run.
 */
export const scheduleEndpoints = [
  define({
    method: 'post',
    path: '/v1/schedules',
    role: 'admin',
    tags: ['schedules'],
    summary:
      "Run an agent's flow on a cron in a time zone (admins); 422 names body.cron, body.timezone, body.input.<field>",
    body: createScheduleBody,
    bodyDoc: createScheduleBodyDoc,
    bodyExample: {
      agent: 'seer',
      input: { topic: 'Trends in plant-based dairy', depth: 'quick' },
      cron: '0 9 * * 1',
      timezone: 'Europe/Berlin',
    },
    responses: { 201: { schema: Schedule, description: 'Created; its job scheduler is set' } },
    handler: async ({ req, res, body }, { schedules }) => {
      const s = await schedules.create(req.workspace!.id, req.auth!.userId, body);
      res.status(201).location(`/v1/schedules/${s.id}`).json(s);
    },
  }),
  define({
    method: 'get',
    path: '/v1/schedules',
    role: 'member',
    tags: ['schedules'],
    summary: "The workspace's schedules, newest first (members)",
    query: scheduleListQuery,
    responses: { 200: { schema: list(Schedule), description: 'A page' } },
    handler: async ({ req, res, query }, { schedules, cursors }) => {
      const { cursor: _c, limit: _l, workspace_id: _w, ...filters } = query;
      const scope = `schedules:${req.workspace!.id}:${JSON.stringify(filters)}`;
      const page = await schedules.list(req.workspace!.id, query, cursors.decode(query.cursor, scope));
      res.json(toPage(cursors, scope, page));
    },
  }),
  define({
    method: 'get',
    path: '/v1/schedules/:id',
    role: 'member',
    tags: ['schedules'],
    summary: 'One schedule (members; another workspace’s is 404)',
    params: scheduleIdParams,
    responses: { 200: { schema: Schedule, description: 'The schedule' } },
    errors: [404],
    handler: async ({ req, res, params }, { schedules }) => {
      res.json(await schedules.get(req.workspace!.id, params.id));
    },
  }),
  define({
    method: 'patch',
    path: '/v1/schedules/:id',
    role: 'admin',
    tags: ['schedules'],
    summary: 'Change input, model, cron, time zone or pause (admins); the job scheduler follows',
    params: scheduleIdParams,
    body: updateScheduleBody,
    bodyExample: { cron: '30 8 * * 1-5', timezone: 'Europe/Berlin', paused: false },
    responses: { 200: { schema: Schedule, description: 'The schedule as changed' } },
    errors: [404],
    handler: async ({ req, res, params, body }, { schedules }) => {
      res.json(await schedules.update(req.workspace!.id, params.id, body));
    },
  }),
  define({
    method: 'delete',
    path: '/v1/schedules/:id',
    role: 'admin',
    tags: ['schedules'],
    summary: 'Delete a schedule and its job scheduler (admins); its runs stay',
    params: scheduleIdParams,
    responses: { 204: { description: 'Deleted' } },
    errors: [404],
    handler: async ({ req, res, params }, { schedules }) => {
      await schedules.delete(req.workspace!.id, params.id);
      res.status(204).end();
    },
  }),
];
