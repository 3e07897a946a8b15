import { WORKSPACE_ROLES } from '../../services/gateway/src/http/endpoint';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';
import { insertRun } from '../support/agent-runs';
import { newAgent, newUser, newWorkspace } from '../support/factories';
import { useGateway } from '../support/gateway';
import { client } from '../support/http';
import { fillPath, routeKey } from '../support/gateway-routes';
import { endpointFor } from '../support/response-check';
import { openStack } from '../support/stack';

/**
 * Two users, two workspaces. User A tries to reach workspace B through every workspace-scoped route, putting
 * B's ids in the path, the header, the query, the body and the cursor. Nothing of B is ever returned or changed.
 */
const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

async function snapshot(workspaceId: string) {
  const [workspace, members, budget, agents, audit, outbox, costs, usage, runs, runEvents, guardrails] =
    await Promise.all([
      stack.db('workspaces').where({ id: workspaceId }).select('name', 'updated_at'),
      stack
        .db('workspace_members')
        .where({ workspace_id: workspaceId })
        .orderBy('user_id')
        .select('user_id', 'role'),
      stack.db('workspace_budgets').where({ workspace_id: workspaceId }).select('monthly_budget_usd'),
      stack.db('agents').where({ workspace_id: workspaceId }).count('* as n'),
      stack.db('audit_logs').where({ workspace_id: workspaceId }).count('* as n'),
      stack.db('event_outbox').where({ workspace_id: workspaceId }).count('* as n'),
      stack.db('cost_logs').where({ workspace_id: workspaceId }).count('* as n'),
      stack.db('budget_usage').where({ workspace_id: workspaceId }).select('spent_usd', 'reserved_usd'),
      stack
        .db('agent_runs')
        .where({ workspace_id: workspaceId })
        .orderBy('id')
        .select('id', 'status', 'cancel_requested_at', 'completed_at'),
      stack.db('agent_run_events').where({ workspace_id: workspaceId }).count('* as n'),
      stack.db('workspace_guardrails').where({ workspace_id: workspaceId }).select('rules', 'updated_at'),
    ]);
  return { workspace, members, budget, agents, audit, outbox, costs, usage, runs, runEvents, guardrails };
}

it("never lets a user of one workspace see or change another's data", async () => {
  const alice = await newUser();
  const bob = await newUser();
  const bobsFriend = await newUser();
  const wsA = await newWorkspace(stack.db, alice, { name: 'alpha' });
  const wsB = await newWorkspace(stack.db, bob, {
    name: 'bravo',
    members: [{ user: bobsFriend, role: 'member' }],
  });
  await newAgent(stack.db, wsB.id, { domain: 'secret-domain-of-b' });
  await stack.db('workspace_budgets').insert({ workspace_id: wsB.id, monthly_budget_usd: '77' });
  await stack
    .db('audit_logs')
    .insert({ workspace_id: wsB.id, actor_type: 'user', actor_id: bob.id, action: 'secret.b' });
  const bRunning = await insertRun(stack.db, wsB.id, 'seer', { status: 'running' });
  const bQueued = await insertRun(stack.db, wsB.id, 'seer', {
    input: JSON.stringify({ topic: 'secret-topic-of-b' }),
  });
  await stack
    .db('workspace_guardrails')
    .insert({ workspace_id: wsB.id, rules: JSON.stringify({ banned_phrases: ['secret-phrase-of-b'] }) });
  const b = client(url, bob.token);
  // A real cursor of B's (listing B's members, 1 per page).
  const bCursor = (await b.get(`/v1/workspaces/${wsB.id}/members?limit=1`)).body.next_cursor as string;
  expect(bCursor).toEqual(expect.any(String));
  const bAuditCursorRes = await b.get(`/v1/audit-logs?limit=1`, { headers: { 'x-workspace-id': wsB.id } });
  expect(bAuditCursorRes.status).toBe(200);
  const bRunsCursor = (await b.get('/v1/agent-runs?limit=1', { headers: { 'x-workspace-id': wsB.id } })).body
    .next_cursor as string;
  expect(bRunsCursor).toEqual(expect.any(String));

  const before = await snapshot(wsB.id);
  // Alice's client, noting which endpoint each attempt reached (for the coverage check below).
  const reached = new Set<string>();
  const alices = client(url, alice.token);
  const note = (method: string, path: string) => {
    const e = endpointFor(method, path);
    if (e) reached.add(routeKey(e));
  };
  const a: typeof alices = {
    get: (p, o) => (note('GET', p), alices.get(p, o)),
    post: (p, body, o) => (note('POST', p), alices.post(p, body, o)),
    call: (method, p, o) => (note(method, p), alices.call(method, p, o)),
  };
  const hB = { headers: { 'x-workspace-id': wsB.id } };
  const m = (ws: string, user = '') => `/v1/workspaces/${ws}/members${user ? `/${user}` : ''}`;
  const attempts: Array<[string, () => Promise<{ status: number; body: any }>]> = [
    ['get B by path', () => a.get(`/v1/workspaces/${wsB.id}`)],
    ['get A by path, B by header', () => a.get(`/v1/workspaces/${wsA.id}`, hB)],
    ['get A by path, B by query', () => a.get(`/v1/workspaces/${wsA.id}?workspace_id=${wsB.id}`)],
    ['rename B', () => a.call('PATCH', `/v1/workspaces/${wsB.id}`, { body: { name: 'taken' } })],
    [
      'rename A with B in the header',
      () => a.call('PATCH', `/v1/workspaces/${wsA.id}`, { ...hB, body: { name: 'taken' } }),
    ],
    ['agents by header', () => a.get('/v1/agents', hB)],
    ['agents by query', () => a.get(`/v1/agents?workspace_id=${wsB.id}`)],
    ['members of B', () => a.get(m(wsB.id))],
    ['members of A with B cursor', () => a.get(`${m(wsA.id)}?cursor=${encodeURIComponent(bCursor)}`)],
    ['add self to B', () => a.post(m(wsB.id), { user_id: alice.id, role: 'owner' })],
    ['add to A with B header', () => a.post(m(wsA.id), { user_id: bobsFriend.id }, hB)],
    ['promote in B', () => a.call('PATCH', m(wsB.id, bobsFriend.id), { body: { role: 'admin' } })],
    ["demote B's owner via A's path", () => a.call('PATCH', m(wsA.id, bob.id), { body: { role: 'member' } })],
    ["remove B's member via A's path", () => a.call('DELETE', m(wsA.id, bobsFriend.id))],
    ['remove in B', () => a.call('DELETE', m(wsB.id, bobsFriend.id))],
    ['read budget of B', () => a.get(`/v1/workspaces/${wsB.id}/budget`)],
    [
      'set budget of B',
      () => a.call('PUT', `/v1/workspaces/${wsB.id}/budget`, { body: { monthly_budget_usd: 1 } }),
    ],
    [
      'set budget of A with B in the query',
      () =>
        a.call('PUT', `/v1/workspaces/${wsA.id}/budget?workspace_id=${wsB.id}`, {
          body: { monthly_budget_usd: 2 },
        }),
    ],
    ['audit of B', () => a.get('/v1/audit-logs', hB)],
    ['cost summary of B', () => a.get('/v1/costs/summary', hB)],
    ['cost summary of B by query', () => a.get(`/v1/costs/summary?workspace_id=${wsB.id}`)],
    ['daily costs of B', () => a.get('/v1/costs/daily', hB)],
    [
      'dispatch on B budget',
      () => a.post('/v1/model/dispatch', { model: 'fast', messages: [{ role: 'user', content: 'hi' }] }, hB),
    ],
    ['audit of A with B cursor', () => a.get(`/v1/audit-logs?cursor=${encodeURIComponent(bCursor)}`)],
    ['run in B', () => a.post('/v1/agent-runs', { agent: 'seer', input: { topic: 'x' } }, hB)],
    [
      'run in B by query',
      () => a.post(`/v1/agent-runs?workspace_id=${wsB.id}`, { agent: 'seer', input: { topic: 'x' } }),
    ],
    ['runs of B', () => a.get('/v1/agent-runs', hB)],
    ['runs of A with B runs cursor', () => a.get(`/v1/agent-runs?cursor=${encodeURIComponent(bRunsCursor)}`)],
    ['run stats of B', () => a.get(`/v1/agent-runs/stats?workspace_id=${wsB.id}`)],
    ["B's run by id", () => a.get(`/v1/agent-runs/${bQueued.id}`)],
    ["B's run naming B", () => a.get(`/v1/agent-runs/${bQueued.id}`, hB)],
    ["cancel B's queued run", () => a.post(`/v1/agent-runs/${bQueued.id}/cancel`)],
    ["cancel B's running run", () => a.post(`/v1/agent-runs/${bRunning.id}/cancel`)],
    ["cancel B's run naming B", () => a.post(`/v1/agent-runs/${bRunning.id}/cancel`, undefined, hB)],
    ["events of B's run", () => a.get(`/v1/agent-runs/${bRunning.id}/events`)],
    [
      "events of B's run naming B",
      () => a.get(`/v1/agent-runs/${bRunning.id}/events?workspace_id=${wsB.id}`),
    ],
    ['guardrails of B', () => a.get(`/v1/workspaces/${wsB.id}/guardrails`)],
    [
      'set guardrails of B',
      () => a.call('PUT', `/v1/workspaces/${wsB.id}/guardrails`, { body: { banned_phrases: [] } }),
    ],
    [
      'set guardrails of A with B in the header',
      () => a.call('PUT', `/v1/workspaces/${wsA.id}/guardrails`, { ...hB, body: { banned_phrases: [] } }),
    ],
    ['event into B', () => a.post('/v1/events', { event_type: 'test.event', payload: {} }, hB)],
    [
      'event with B in body',
      () => a.post('/v1/events', { event_type: 'test.event', payload: {}, workspace_id: wsB.id }),
    ],
  ];
  // And every workspace endpoint of the registry in its plainest form: B's ids in the path (its run, its
  // member), B in the header where the path names no workspace, the declared example body.
  const scoped = GATEWAY_ENDPOINTS.filter((e) => WORKSPACE_ROLES.includes(e.role));
  for (const e of scoped) {
    const ids: Record<string, string> = { workspace_id: wsB.id, id: bRunning.id, user_id: bobsFriend.id };
    const path = fillPath(e.path, (n) => ids[n] ?? wsB.id);
    const example = e.bodyExample as Record<string, unknown> | undefined;
    const body = example && 'user_id' in example ? { ...example, user_id: alice.id } : example;
    const headers: Record<string, string> = e.path.includes(':workspace_id')
      ? {}
      : { 'x-workspace-id': wsB.id };
    attempts.push([`${routeKey(e)} naming B`, () => a.call(e.method.toUpperCase(), path, { body, headers })]);
  }
  for (const [name, attempt] of attempts) {
    const res = await attempt();
    if (![403, 404, 422].includes(res.status))
      throw new Error(`${name}: expected a refusal, got ${res.status} ${JSON.stringify(res.body)}`);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('secret-domain-of-b');
    expect(text).not.toContain('bravo');
    expect(text).not.toContain(bobsFriend.id);
    expect(text).not.toContain('secret-topic-of-b');
    expect(text).not.toContain('secret-phrase-of-b');
  }
  expect(await snapshot(wsB.id)).toEqual(before);
  // Every workspace endpoint the gateway declares was attempted (a new one is covered without editing this).
  expect(scoped.length).toBeGreaterThanOrEqual(21);
  expect(scoped.map(routeKey).filter((k) => !reached.has(k))).toEqual([]);
  // Alice's own workspace is intact and still hers alone, too.
  expect(await stack.db('workspace_members').where({ workspace_id: wsA.id }).select('user_id')).toEqual([
    { user_id: alice.id },
  ]);
});
