import { randomUUID } from 'node:crypto';
import { lordsTeam } from '../support/agent-runs';
import { newUser, newWorkspace } from '../support/factories';
import { useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openSse } from '../support/sse';
import { openStack } from '../support/stack';

/**
 * `/metrics` must never carry an id: a route label per workspace would publish who the customers are (the
 * gateway's /metrics is open outside production) and grow one series set per workspace. Every kind of
 * route is called here with real ids, then the whole /metrics text is searched for any UUID.
 */
const stack = openStack();
const gateway = useGateway(stack);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const BASIC = { authorization: `Basic ${Buffer.from('admin:raptorflow').toString('base64')}` };

it('labels every request with its route template, never with the ids in its path', async () => {
  const url = gateway.url();
  const t = await lordsTeam(stack.db);
  const o = client(url, t.owner.token);
  const ws = `/v1/workspaces/${t.ws.id}`;
  const joiner = await newUser();
  const stranger = await newUser();
  const theirs = await newWorkspace(stack.db, stranger);
  const calls: Array<[string, string, unknown?, Record<string, string>?]> = [
    ['GET', ws],
    ['GET', `${ws}/members`],
    ['POST', `${ws}/members`, { user_id: joiner.id }],
    ['PATCH', `${ws}/members/${joiner.id}`, { role: 'admin' }],
    ['DELETE', `${ws}/members/${joiner.id}`],
    ['DELETE', `${ws}/members/${randomUUID()}`], // 404 from a matched route
    ['GET', `${ws}/budget`],
    ['PUT', `${ws}/budget`, { monthly_budget_usd: 12.5 }],
    ['GET', `${ws}/guardrails`],
    ['PUT', `${ws}/guardrails`, { banned_phrases: ['guaranteed'] }],
    ['GET', `/v1/workspaces/${theirs.id}/members`], // 403 from the guard
    ['GET', `/v1/workspaces/${theirs.id}/budget`],
    ['GET', `${ws}/no-such-thing`], // 404s with ids, no route
    [`GET`, `/v1/agent-runs/${randomUUID()}/nothing`],
    ['GET', `/${randomUUID()}`],
    ['GET', `/v1/agent-runs/${randomUUID()}`, undefined, { 'x-workspace-id': t.ws.id }],
    ['GET', `/v1/agent-runs/${randomUUID()}/events`, undefined, { 'x-workspace-id': t.ws.id }],
    ['POST', `/admin/events/${randomUUID()}/replay`, undefined, BASIC],
  ];
  for (const [method, path, body, headers] of calls) {
    const res = await o.call(method, path, { ...(body ? { body } : {}), ...(headers ? { headers } : {}) });
    expect(res.status).toBeLessThan(500);
  }

  // A run: its detail, its cancel and its event stream (cancelled, so the stream replays and ends).
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const run = await o.post('/v1/agent-runs', { agent: 'cognition', input: { topic: 'labels' } }, h);
  expect(run.status).toBe(202);
  expect((await o.get(`/v1/agent-runs/${run.body.id}`, h)).status).toBe(200);
  expect((await o.post(`/v1/agent-runs/${run.body.id}/cancel`, undefined, h)).status).toBe(200);
  const stream = await openSse(`${url}/v1/agent-runs/${run.body.id}/events`, {
    token: t.owner.token,
    headers: h.headers,
  });
  expect(stream.status).toBe(200);
  await stream.ended(5_000);

  const text = (await client(url).get('/metrics')).body as string;
  const series = text
    .split('\n')
    .filter((l) => l.startsWith('raptorflow_http_request_duration_seconds_count'));
  expect(series.filter((l) => UUID.test(l))).toEqual([]);
  expect(text).not.toMatch(UUID);
  // The templates are there, whole (not the inner router's part only).
  for (const [method, route, status] of [
    ['GET', '/v1/workspaces/:workspace_id', '200'],
    ['GET', '/v1/workspaces/:workspace_id/members', '200'],
    ['PATCH', '/v1/workspaces/:workspace_id/members/:user_id', '200'],
    ['DELETE', '/v1/workspaces/:workspace_id/members/:user_id', '404'],
    ['PUT', '/v1/workspaces/:workspace_id/budget', '200'],
    ['PUT', '/v1/workspaces/:workspace_id/guardrails', '200'],
    ['GET', '/v1/agent-runs/:id/events', '200'],
    ['GET', '/v1/agent-runs/:id/events', '404'],
    ['POST', '/admin/events/:event_id/replay', '404'],
    ['GET', 'unmatched', '404'],
  ])
    expect(series).toContainEqual(
      expect.stringMatching(
        `^raptorflow_http_request_duration_seconds_count\\{method="${method}",route="${route}",status="${status}"\\} [1-9]`,
      ),
    );
});
