import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import { newUser } from './factories';
import type { TestUser } from './factories';
import { client } from './http';
import type { HttpResult } from './http';

/**
 * A model of what the API should say about workspaces, members, budgets, guardrails and memory items, and
 * fast-check commands that change and read the real gateway and compare each answer with it: statuses (403
 * for a role that may not, 404 after a delete, 409 for the last owner or a second membership), names, roles,
 * member lists, budgets, rules and item contents. Users 0–3 act (they have tokens); user 4 never signs in.
 */
export interface WsModel {
  id: string;
  name: string;
  members: Map<number, WorkspaceRole>;
  budget: number | null;
  rules: { banned_phrases: string[]; banned_claims: string[]; required_disclaimers: string[] };
  items: Array<{ id: string; content: string; deleted: boolean }>;
}
export interface Model {
  workspaces: WsModel[];
}
export interface Real {
  url: string;
  users: TestUser[];
  /** Ids of users 0–4. */
  ids: string[];
}

/** Commands that ran (their precondition held), across sequences. */
export const executed = { commands: 0 };

/** Four new users; user 0 owns a workspace (made through the API) where user 1 is admin and user 2 member. */
export async function freshWorld(url: string): Promise<{ model: Model; real: Real }> {
  const users = await Promise.all([0, 1, 2, 3].map(() => newUser()));
  const real: Real = { url, users, ids: [...users.map((u) => u.id), randomUUID()] };
  const c = client(url, users[0]!.token);
  const created = await c.post('/v1/workspaces', { name: 'start' });
  expectStatus('setup', created, 201);
  const id = created.body.id as string;
  for (const [v, role] of [
    [1, 'admin'],
    [2, 'member'],
  ] as const)
    expectStatus('setup', await c.post(`/v1/workspaces/${id}/members`, { user_id: real.ids[v], role }), 201);
  const start: WsModel = {
    id,
    name: 'start',
    members: new Map<number, WorkspaceRole>([
      [0, 'owner'],
      [1, 'admin'],
      [2, 'member'],
    ]),
    budget: null,
    rules: { banned_phrases: [], banned_claims: [], required_disclaimers: [] },
    items: [],
  };
  return { model: { workspaces: [start] }, real };
}

const RANK: Record<WorkspaceRole, number> = { member: 1, admin: 2, owner: 3 };
const atLeast = (role: WorkspaceRole | undefined, min: WorkspaceRole) =>
  role !== undefined && RANK[role] >= RANK[min];
const owners = (ws: WsModel) => [...ws.members.values()].filter((r) => r === 'owner').length;
const ws = (m: Model, w: number) => m.workspaces[w % m.workspaces.length]!;
const api = (r: Real, u: number) => client(r.url, r.users[u]!.token);

function expectStatus(label: string, res: HttpResult, status: number): void {
  if (res.status !== status)
    throw new Error(
      `${label}: expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
    );
}

class Cmd implements fc.AsyncCommand<Model, Real, true> {
  constructor(
    private readonly label: string,
    private readonly pre: (m: Model) => boolean,
    private readonly body: (m: Model, r: Real, label: string) => Promise<void>,
  ) {}
  async check(m: Readonly<Model>) {
    return this.pre(m as Model);
  }
  run(m: Model, r: Real) {
    executed.commands++;
    return this.body(m, r, this.label);
  }
  toString() {
    return this.label;
  }
}

const hasWs = (m: Model) => m.workspaces.length > 0;
// User 0 (the start workspace's owner) acts more often; a member command aims at its actor a third of the time.
const actor = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }));
const target = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }));
const self = (v: number, u: number) => (v < 0 ? u : v);
const role = fc.constantFrom<WorkspaceRole>('owner', 'admin', 'member');
const name = fc
  .oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom(' Acme ', 'Ünïcode ✓', 'x'.repeat(200)))
  .filter((s) => s.trim().length > 0 && !s.includes('\u0000'));
const phrases = fc.array(
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== ''),
  { maxLength: 3 },
);
const content = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0);

export const COMMANDS = [
  fc.record({ u: actor, n: name }).map(
    ({ u, n }) =>
      new Cmd(
        `create(u${u}, ${JSON.stringify(n)})`,
        (m) => m.workspaces.filter((w) => w.members.get(u) === 'owner').length < 8,
        async (m, r, l) => {
          const res = await api(r, u).post('/v1/workspaces', { name: n });
          expectStatus(l, res, 201);
          expect(res.body).toMatchObject({ name: n.trim(), role: 'owner' });
          const items: WsModel['items'] = [];
          const rules = { banned_phrases: [], banned_claims: [], required_disclaimers: [] };
          m.workspaces.push({
            id: res.body.id,
            name: n.trim(),
            members: new Map([[u, 'owner']]),
            budget: null,
            rules,
            items,
          });
        },
      ),
  ),
  fc.record({ u: actor, w: fc.nat(), n: name }).map(
    ({ u, w, n }) =>
      new Cmd(`rename(u${u}, ws${w}, ${JSON.stringify(n)})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const res = await api(r, u).call('PATCH', `/v1/workspaces/${s.id}`, { body: { name: n } });
        expectStatus(l, res, atLeast(s.members.get(u), 'admin') ? 200 : 403);
        if (res.status === 200) s.name = n.trim();
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), v: target, role }).map(
    ({ u, w, v: t, role: to }, v = self(t, u)) =>
      new Cmd(`add(u${u}, ws${w}, u${v} as ${to})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const mine = s.members.get(u);
        const res = await api(r, u).post(`/v1/workspaces/${s.id}/members`, { user_id: r.ids[v], role: to });
        const expected =
          !atLeast(mine, 'admin') || (to === 'owner' && mine !== 'owner')
            ? 403
            : s.members.has(v)
              ? 409
              : 201;
        expectStatus(l, res, expected);
        if (expected === 201) s.members.set(v, to);
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), v: target, role }).map(
    ({ u, w, v: t, role: to }, v = self(t, u)) =>
      new Cmd(`change(u${u}, ws${w}, u${v} to ${to})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const mine = s.members.get(u);
        const cur = s.members.get(v);
        const res = await api(r, u).call('PATCH', `/v1/workspaces/${s.id}/members/${r.ids[v]}`, {
          body: { role: to },
        });
        let expected = 200;
        if (!atLeast(mine, 'admin')) expected = 403;
        else if (!cur) expected = 404;
        else if ((cur === 'owner' || to === 'owner') && mine !== 'owner') expected = 403;
        else if (cur === 'owner' && to !== 'owner' && owners(s) <= 1) expected = 409;
        expectStatus(l, res, expected);
        if (expected === 200) s.members.set(v, to);
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), v: target }).map(
    ({ u, w, v: t }, v = self(t, u)) =>
      new Cmd(`remove(u${u}, ws${w}, u${v})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const mine = s.members.get(u);
        const cur = s.members.get(v);
        const res = await api(r, u).call('DELETE', `/v1/workspaces/${s.id}/members/${r.ids[v]}`);
        let expected = 204;
        if (!atLeast(mine, 'admin')) expected = 403;
        else if (!cur) expected = 404;
        else if (cur === 'owner' && mine !== 'owner') expected = 403;
        else if (cur === 'owner' && owners(s) <= 1) expected = 409;
        expectStatus(l, res, expected);
        if (expected === 204) s.members.delete(v);
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), usd: fc.integer({ min: 100, max: 100_000 }) }).map(
    ({ u, w, usd }) =>
      new Cmd(`budget(u${u}, ws${w}, ${usd})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const res = await api(r, u).call('PUT', `/v1/workspaces/${s.id}/budget`, {
          body: { monthly_budget_usd: usd },
        });
        expectStatus(l, res, s.members.get(u) === 'owner' ? 200 : 403);
        if (res.status === 200) s.budget = usd;
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), a: phrases, b: phrases, c: phrases }).map(
    ({ u, w, a, b, c }) =>
      new Cmd(`guardrails(u${u}, ws${w}, ${JSON.stringify([a, b, c])})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const rules = { banned_phrases: a, banned_claims: b, required_disclaimers: c };
        const res = await api(r, u).call('PUT', `/v1/workspaces/${s.id}/guardrails`, { body: rules });
        expectStatus(l, res, atLeast(s.members.get(u), 'admin') ? 200 : 403);
        if (res.status === 200) s.rules = rules;
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), text: content }).map(
    ({ u, w, text }) =>
      new Cmd(`remember(u${u}, ws${w}, ${JSON.stringify(text)})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const h = { headers: { 'x-workspace-id': s.id } };
        const res = await api(r, u).post('/v1/memory', { kind: 'fact', content: text }, h);
        expectStatus(l, res, s.members.has(u) ? 201 : 403);
        if (res.status === 201) s.items.push({ id: res.body.id, content: text, deleted: false });
      }),
  ),
  fc.record({ u: actor, w: fc.nat(), i: fc.nat(), text: content }).map(
    ({ u, w, i, text }) =>
      new Cmd(
        `edit(u${u}, ws${w}, item${i}, ${JSON.stringify(text)})`,
        (m) => m.workspaces.some((x) => x.items.length),
        async (m, r, l) => {
          const s = ws(m, w);
          const item = s.items[i % Math.max(1, s.items.length)];
          const id = item?.id ?? randomUUID();
          const res = await api(r, u).call('PATCH', `/v1/memory/${id}`, {
            body: { content: text },
            headers: { 'x-workspace-id': s.id },
          });
          expectStatus(l, res, !s.members.has(u) ? 403 : !item || item.deleted ? 404 : 200);
          if (res.status === 200) item!.content = text;
        },
      ),
  ),
  fc.record({ u: actor, w: fc.nat(), i: fc.nat() }).map(
    ({ u, w, i }) =>
      new Cmd(
        `forget(u${u}, ws${w}, item${i})`,
        (m) => m.workspaces.some((x) => x.items.length),
        async (m, r, l) => {
          const s = ws(m, w);
          const item = s.items[i % Math.max(1, s.items.length)];
          const res = await api(r, u).call('DELETE', `/v1/memory/${item?.id ?? randomUUID()}`, {
            headers: { 'x-workspace-id': s.id },
          });
          expectStatus(l, res, !atLeast(s.members.get(u), 'admin') ? 403 : !item || item.deleted ? 404 : 204);
          if (res.status === 204) item!.deleted = true;
        },
      ),
  ),
  fc.record({ u: actor, w: fc.nat() }).map(
    ({ u, w }) =>
      new Cmd(`read(u${u}, ws${w})`, hasWs, async (m, r, l) => {
        const s = ws(m, w);
        const c = api(r, u);
        const h = { headers: { 'x-workspace-id': s.id } };
        const mine = s.members.get(u);
        const one = await c.get(`/v1/workspaces/${s.id}`);
        expectStatus(`${l} workspace`, one, mine ? 200 : 403);
        if (mine) expect(one.body).toMatchObject({ id: s.id, name: s.name, role: mine });
        const members = await c.get(`/v1/workspaces/${s.id}/members`);
        expectStatus(`${l} members`, members, atLeast(mine, 'admin') ? 200 : 403);
        if (members.status === 200) {
          const seen = members.body.data
            .map((x: { user_id: string; role: string }) => `${x.user_id}:${x.role}`)
            .sort();
          expect(seen).toEqual([...s.members].map(([v, role]) => `${r.ids[v]}:${role}`).sort());
        }
        const budget = await c.get(`/v1/workspaces/${s.id}/budget`);
        expectStatus(`${l} budget`, budget, mine ? 200 : 403);
        if (mine && s.budget !== null)
          expect(budget.body).toMatchObject({ monthly_budget_usd: s.budget, source: 'workspace' });
        if (mine && s.budget === null) expect(budget.body.source).toBe('default');
        const rules = await c.get(`/v1/workspaces/${s.id}/guardrails`);
        expectStatus(`${l} guardrails`, rules, mine ? 200 : 403);
        if (mine) expect(rules.body.rules).toEqual(s.rules);
        const items = await c.get('/v1/memory?limit=100', h);
        expectStatus(`${l} memory`, items, mine ? 200 : 403);
        if (mine) {
          const live = s.items.filter((x) => !x.deleted);
          const got = items.body.data
            .map((x: { id: string; content: string }) => `${x.id}:${x.content}`)
            .sort();
          expect(got).toEqual(live.map((x) => `${x.id}:${x.content}`).sort());
        }
        for (const item of s.items.slice(-2)) {
          const res = await c.get(`/v1/memory/${item.id}`, h);
          expectStatus(`${l} item`, res, !mine ? 403 : item.deleted ? 404 : 200);
        }
      }),
  ),
  actor.map(
    (u) =>
      new Cmd(
        `list(u${u})`,
        () => true,
        async (m, r, l) => {
          const res = await api(r, u).get('/v1/workspaces?limit=100');
          expectStatus(l, res, 200);
          const got = res.body.data
            .map((x: { id: string; name: string; role: string }) => `${x.id}:${x.name}:${x.role}`)
            .sort();
          const want = m.workspaces
            .filter((s) => s.members.has(u))
            .map((s) => `${s.id}:${s.name}:${s.members.get(u)}`);
          expect(got).toEqual(want.sort());
        },
      ),
  ),
];
