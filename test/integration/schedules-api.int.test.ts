import { newTeam, newUser, newWorkspace } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';
import { ScheduleTimerService, schedulerIdOf } from '@raptorflow/events/runs/schedule-timer.service';
import { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';

/**
 * /v1/schedules through the real gateway: CRUD with roles (members read, admins write), audited writes, the
 * BullMQ job scheduler following every write, 422s naming the field, and 404 across workspaces.
 */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

const SEER = {
  agent: 'seer',
  input: { topic: 'Trends in plant-based dairy' },
  cron: '0 9 * * 1',
  timezone: 'Europe/Berlin',
};

const scheduler = (id: string) => stack.bus.queue('agent').getJobScheduler(schedulerIdOf(id));

function fieldsOf(res: { body: any }): string[] {
  return (res.body.error.details.fields as Array<{ path: string }>).map((d) => d.path);
}

it('creates (admins), reads (members), patches and deletes a schedule; its job scheduler follows', async () => {
  const t = await newTeam(stack.db);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const member = client(url, t.member.token);
  const admin = client(url, t.admin.token);

  expectError(await member.post('/v1/schedules', SEER, h), 403, 'permission_denied');
  const created = await admin.post('/v1/schedules', SEER, h);
  expect(created.status).toBe(201);
  const s = created.body;
  expect(s).toMatchObject({
    agent: 'seer',
    input: { topic: 'Trends in plant-based dairy', depth: 'standard' },
    model: null,
    cron: '0 9 * * 1',
    timezone: 'Europe/Berlin',
    paused: false,
    created_by: t.admin.id,
    last_fired_at: null,
  });
  // Monday 09:00 in Berlin is 07:00 or 08:00 UTC, depending on summer time.
  const next = new Date(s.next_run_at);
  expect(next.getUTCDay()).toBe(1);
  expect([7, 8]).toContain(next.getUTCHours());
  expect(await scheduler(s.id)).toMatchObject({
    pattern: '0 9 * * 1',
    tz: 'Europe/Berlin',
    name: 'schedule.tick',
  });

  expect((await member.get(`/v1/schedules/${s.id}`, h)).body).toEqual(s);
  const listed = await member.get('/v1/schedules', h);
  expect(listed.body).toEqual({ data: [s], next_cursor: null });

  expectError(
    await member.call('PATCH', `/v1/schedules/${s.id}`, { ...h, body: { paused: true } }),
    403,
    'permission_denied',
  );
  const paused = await admin.call('PATCH', `/v1/schedules/${s.id}`, { ...h, body: { paused: true } });
  expect(paused.status).toBe(200);
  expect(paused.body).toMatchObject({ paused: true, next_run_at: null });
  expect(await scheduler(s.id)).toBeUndefined();

  const moved = await admin.call('PATCH', `/v1/schedules/${s.id}`, {
    ...h,
    body: { paused: false, cron: '30 8 * * 1-5', timezone: 'America/New_York', input: { topic: 'Oat milk' } },
  });
  expect(moved.status).toBe(200);
  expect(moved.body).toMatchObject({ cron: '30 8 * * 1-5', timezone: 'America/New_York', paused: false });
  expect(moved.body.input).toEqual({ topic: 'Oat milk', depth: 'standard' });
  expect(await scheduler(s.id)).toMatchObject({ pattern: '30 8 * * 1-5', tz: 'America/New_York' });

  expectError(await member.call('DELETE', `/v1/schedules/${s.id}`, h), 403, 'permission_denied');
  expect((await admin.call('DELETE', `/v1/schedules/${s.id}`, h)).status).toBe(204);
  expect(await scheduler(s.id)).toBeUndefined();
  expectError(await member.get(`/v1/schedules/${s.id}`, h), 404, 'not_found');

  const audit = await stack
    .db('audit_logs')
    .where({ resource_id: s.id })
    .orderBy('created_at')
    .pluck('action');
  expect(audit).toEqual(['schedule.created', 'schedule.updated', 'schedule.updated', 'schedule.deleted']);
});

it.each([
  ['a cron with a bad field', { cron: '61 9 * * 1' }, 'body.cron'],
  ['a cron with three fields', { cron: '* * *' }, 'body.cron'],
  ['a cron that never fires', { cron: '0 0 30 2 *' }, 'body.cron'],
  ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'body.timezone'],
  ['an offset instead of a zone', { timezone: '+01:00' }, 'body.timezone'],
  ['an input the Lord’s flow refuses', { input: { topic: '' } }, 'body.input.topic'],
  ['an input field the flow does not take', { input: { topic: 'x', colour: 'red' } }, 'body.input.colour'],
  ['an agent that is not a Lord', { agent: 'nobody' }, 'body.agent'],
])('refuses %s (a 422 naming the field) and writes nothing', async (_what, change, field) => {
  const t = await newTeam(stack.db);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const res = await client(url, t.owner.token).post('/v1/schedules', { ...SEER, ...change }, h);
  expectError(res, 422, 'validation_failed');
  expect(fieldsOf(res)).toContain(field);
  expect(await stack.db('schedules').where({ workspace_id: t.ws.id })).toHaveLength(0);
});

it('PATCH validates the same way (422 naming the field) and leaves the schedule as it was', async () => {
  const t = await newTeam(stack.db);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const owner = client(url, t.owner.token);
  const s = (await owner.post('/v1/schedules', SEER, h)).body;
  for (const [body, field] of [
    [{ cron: '0 25 * * *' }, 'body.cron'],
    [{ timezone: 'Europe/Atlantis' }, 'body.timezone'],
    [{ input: { depth: 'deep' } }, 'body.input.topic'],
  ] as const) {
    const res = await owner.call('PATCH', `/v1/schedules/${s.id}`, { ...h, body });
    expectError(res, 422, 'validation_failed');
    expect(fieldsOf(res)).toContain(field);
  }
  expect((await owner.get(`/v1/schedules/${s.id}`, h)).body).toEqual(s);
});

it("another workspace's schedule is 404 for every verb", async () => {
  const t = await newTeam(stack.db);
  const s = (
    await client(url, t.owner.token).post('/v1/schedules', SEER, { headers: { 'x-workspace-id': t.ws.id } })
  ).body;
  const stranger = await newUser();
  const other = await newWorkspace(stack.db, stranger);
  const c = client(url, stranger.token);
  const h = { headers: { 'x-workspace-id': other.id } };
  expectError(await c.get(`/v1/schedules/${s.id}`, h), 404, 'not_found');
  expectError(
    await c.call('PATCH', `/v1/schedules/${s.id}`, { ...h, body: { paused: true } }),
    404,
    'not_found',
  );
  expectError(await c.call('DELETE', `/v1/schedules/${s.id}`, h), 404, 'not_found');
  expect((await c.get('/v1/schedules', h)).body.data).toEqual([]);
  expect(await scheduler(s.id)).toMatchObject({ pattern: '0 9 * * 1' });
});

it('recreates the job schedulers Redis lost, for active schedules only', async () => {
  const t = await newTeam(stack.db);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const admin = client(url, t.admin.token);
  const active = (await admin.post('/v1/schedules', SEER, h)).body;
  const paused = (await admin.post('/v1/schedules', { ...SEER, cron: '0 10 * * 1', paused: true }, h)).body;
  expect(paused.paused).toBe(true);
  // What a Redis flush leaves: the schedule's row, no scheduler.
  await stack.bus.queue('agent').removeJobScheduler(schedulerIdOf(active.id));
  expect(await scheduler(active.id)).toBeUndefined();

  const timers = new ScheduleTimerService(stack.bus);
  const schedules = new ScheduleRepository(stack.db);
  expect(await timers.restoreMissing(schedules, 2)).toBeGreaterThanOrEqual(1);
  expect(await scheduler(active.id)).toMatchObject({
    pattern: '0 9 * * 1',
    tz: 'Europe/Berlin',
    name: 'schedule.tick',
  });
  expect(await scheduler(paused.id)).toBeUndefined();
  // Nothing is missing any more: a second runner starting finds nothing to do.
  expect(await timers.restoreMissing(schedules, 2)).toBe(0);
});
