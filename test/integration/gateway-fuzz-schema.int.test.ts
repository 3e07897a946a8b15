import fc from 'fast-check';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';
import { startFuzzTarget } from '../support/fuzz-target';
import { HOSTILE_STRINGS, hostileValue } from '../support/hostile-input';
import { assertErrorShape, localVerdict, namedFields, newCount, send, table } from '../support/schema-fuzz';
import type { FuzzRequest, RouteCount } from '../support/schema-fuzz';
import { fingerprint, routeCases, seedWorld } from '../support/schema-fuzz-routes';
import type { FuzzWorld, RouteCase } from '../support/schema-fuzz-routes';
import { openStack } from '../support/stack';
import { nearValid, validArbitrary } from '../support/zod-arbitrary';

/**
 * Inputs generated from each declared route's own zod schemas (test/support/zod-arbitrary.ts), sent to the
 * real gateway over the test's PostgreSQL and Redis:
 * - VALID (the schema accepts it, domain hints steer clear of refusals by design): the handler runs, a 2xx
 *   or a documented domain refusal (402/404/409), never a 422 or a 5xx;
 * - NEAR-VALID (one field wrong in one way: missing, wrong type, too long or short, out of range, not an
 *   integer, not in the enum, malformed uuid/date/pattern, an unknown key of a strict object): a 422 naming
 *   that field, and no table of the database changed;
 * - HOSTILE (hostile-input.ts values in each field): never a 5xx, always the error shape, never a 2xx for
 *   what the schema refuses, and a refusal changes nothing.
 * Every write route must have reached its handler and refused near-valid input at least N times each.
 */
const N = 20;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1_000_000));
const stack = openStack();
let world: FuzzWorld;
let cases: RouteCase[];
const counts = new Map<string, RouteCount>();
beforeAll(async () => {
  // Development, so the dev sign-in route exists for this (loopback) client.
  const target = await startFuzzTarget(stack, { environment: 'development' });
  world = await seedWorld(target, stack);
  cases = routeCases(world, GATEWAY_ENDPOINTS);
}, 60_000);
afterAll(async () => {
  if (counts.size) console.log(table(counts, SEED));
  await world?.close();
  await stack.close();
});

const DOMAIN = [402, 404, 409];
const fail = (where: string, what: string): never => {
  throw new Error(`${where}: ${what} (seed ${SEED}; FUZZ_SEED=${SEED} replays it)`);
};

/** Valid requests of a route, as a fast-check arbitrary over its body, query and a pick among real ids. */
function requests(rc: RouteCase) {
  const e = rc.endpoint;
  return fc.record({
    pick: fc.nat(),
    query: e.query
      ? (validArbitrary(e.query, 'query', rc.hints.query) as fc.Arbitrary<Record<string, unknown>>)
      : fc.constant({}),
    body: e.body ? validArbitrary(e.body, 'body', rc.hints.body, e.bodyDoc) : fc.constant(undefined),
  });
}

function sample<T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] {
  return fc.sample(arb, { seed: SEED + salt, numRuns: n });
}

/** The near-valid variants of one valid request: each of its body, query and path fields made wrong once. */
function variants(rc: RouteCase, r: FuzzRequest): Array<{ field: string; kind: string; req: FuzzRequest }> {
  const e = rc.endpoint;
  const out: Array<{ field: string; kind: string; req: FuzzRequest }> = [];
  const asObject = (v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const body = asObject(r.body);
  if (e.body && body)
    for (const m of nearValid(e.body, 'body', body, { doc: e.bodyDoc }))
      out.push({ field: m.field, kind: m.kind, req: { ...r, body: m.value } });
  if (e.query)
    for (const m of nearValid(e.query, 'query', r.query, { stringsOnly: true }))
      out.push({ field: m.field, kind: m.kind, req: { ...r, query: m.value } });
  if (e.params)
    for (const m of nearValid(e.params, 'path', r.params, { stringsOnly: true }))
      // A path segment cannot be left out or empty (that is another route): malformed values only.
      if (m.kind !== 'missing' && m.kind !== 'too-short')
        out.push({ field: m.field, kind: m.kind, req: { ...r, params: m.value as Record<string, string> } });
  return out;
}

async function validPhase(rc: RouteCase, count: RouteCount, target: number, salt: number) {
  for (const s of sample(requests(rc), target * 2, salt)) {
    if (count.ok >= target) return;
    const params = rc.params(s.pick);
    if (!params) return;
    const req: FuzzRequest = { params, query: s.query, ...(s.body !== undefined ? { body: s.body } : {}) };
    const { url, res } = await send(world.url, rc, req);
    const where = `${rc.key} ${url.slice(0, 200)} ${JSON.stringify(req.body)?.slice(0, 300)}`;
    if (res.status >= 200 && res.status < 300) {
      count.ok++;
      rc.after(res.status, params, req.body, res.body);
    } else if (DOMAIN.includes(res.status) && [...(rc.endpoint.errors ?? []), 404].includes(res.status)) {
      assertErrorShape(where, res);
      count.domain++;
    } else fail(where, `valid input answered ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
  }
}

async function nearPhase(rc: RouteCase, count: RouteCount, target: number, salt: number) {
  const bases = sample(requests(rc), target * 2, salt + 7);
  for (let i = 0; i < target * 3 && count.refused < target; i++) {
    const s = bases[i % bases.length]!;
    const params = rc.params(s.pick);
    if (!params) return;
    const all = variants(rc, { params, query: s.query, ...(s.body !== undefined ? { body: s.body } : {}) });
    if (!all.length) return;
    const v = all[(s.pick + i) % all.length]!;
    const before = await fingerprint(stack.db);
    const { url, res } = await send(world.url, rc, v.req);
    const where = `${rc.key} ${v.kind} ${v.field}: ${url.slice(0, 200)} ${JSON.stringify(v.req.body)?.slice(0, 300)}`;
    if (res.status !== 422)
      fail(where, `near-valid input answered ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    assertErrorShape(where, res);
    const named = namedFields(res);
    const key = v.field.split('.').pop()!;
    const names =
      v.kind === 'extra-key'
        ? named.some(
            (p) => p === v.field || (p === v.field.split('.')[0] && JSON.stringify(res.body).includes(key)),
          )
        : named.some((p) => p === v.field || p.startsWith(`${v.field}.`));
    if (!names)
      fail(where, `the 422 does not name ${v.field}: ${JSON.stringify(res.body.error).slice(0, 400)}`);
    if ((await fingerprint(stack.db)) !== before) fail(where, 'a refused request changed the database');
    count.refused++;
    count.kinds.add(v.kind);
  }
}

async function hostilePhase(rc: RouteCase, count: RouteCount, n: number, salt: number) {
  const e = rc.endpoint;
  const base = sample(requests(rc), 1, salt + 13)[0]!;
  const params = rc.params(base.pick);
  if (!params) return;
  const sites: Array<[string, string]> = [
    ...Object.keys(params).map((k) => ['params', k] as [string, string]),
    ...Object.keys(base.query).map((k) => ['query', k] as [string, string]),
    ...Object.keys((base.body as object | undefined) ?? {}).map((k) => ['body', k] as [string, string]),
  ];
  if (!sites.length) sites.push(['query', 'x']);
  const arb = fc.record({
    site: fc.constantFrom(...sites),
    value: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), hostileValue),
  });
  for (const { site, value } of sample(arb, n, salt + 29)) {
    const [part, field] = site;
    if (part !== 'body' && typeof value !== 'string') continue;
    const req: FuzzRequest = { params: { ...params }, query: { ...base.query }, body: base.body };
    if (part === 'params') req.params[field] = value as string;
    else if (part === 'query') req.query[field] = value;
    else req.body = { ...(base.body as object), [field]: value };
    const before = await fingerprint(stack.db);
    const { url, res } = await send(world.url, rc, req);
    const where = `${rc.key} hostile ${part}.${field}: ${url.slice(0, 200)} ${JSON.stringify(req.body)?.slice(0, 200)}`;
    count.hostile++;
    if (res.status >= 500) fail(where, `answered ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    if (res.status >= 200 && res.status < 300) {
      if (e.method !== 'get' && localVerdict(rc, req)) fail(where, `a 2xx for input the schema refuses`);
      rc.after(res.status, req.params, req.body, res.body);
      continue;
    }
    assertErrorShape(where, res);
    if ((await fingerprint(stack.db)) !== before)
      fail(where, `a refused request (${res.status}) changed the database`);
  }
}

it('reaches every route with valid, near-valid and hostile input generated from its schemas', async () => {
  console.log(`schema fuzz seed ${SEED}`);
  const started = Date.now();
  let salt = 0;
  for (const rc of cases) {
    const count = newCount();
    counts.set(rc.key, count);
    const target = rc.write ? N : 4;
    salt += 101;
    await validPhase(rc, count, target, salt);
    await nearPhase(rc, count, target, salt);
    await hostilePhase(rc, count, rc.write ? 16 : 6, salt);
  }
  const writes = cases.filter((rc) => rc.write);
  expect(writes.length).toBeGreaterThanOrEqual(17);
  // Every write route's handler ran N times; every one with a schema refused N near-valid inputs.
  const short = writes.flatMap((rc) => {
    const c = counts.get(rc.key)!;
    const validated = Boolean(rc.endpoint.body ?? rc.endpoint.query ?? rc.endpoint.params);
    return [
      ...(c.ok < N ? [`${rc.key}: ${c.ok} 2xx`] : []),
      ...(validated && c.refused < N ? [`${rc.key}: ${c.refused} refusals`] : []),
    ];
  });
  expect(short).toEqual([]);
  const sent = [...counts.values()].reduce((n, c) => n + c.ok + c.domain + c.refused + c.hostile, 0);
  console.log(`schema fuzz: ${cases.length} routes, ${sent} requests in ${Date.now() - started} ms`);
}, 120_000);
