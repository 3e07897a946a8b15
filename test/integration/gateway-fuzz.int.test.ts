import fc from 'fast-check';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { Settings } from '@raptorflow/core/config/settings';
import { createApp } from '../../services/gateway/src/app';
import type { TestUser, TestWorkspace } from '../support/factories';
import { startFuzzTarget } from '../support/fuzz-target';
import { fillPath, gatewayRoutes, mountedRoutes, paramValue, routeKey } from '../support/gateway-routes';
import type { RouteSpec } from '../support/gateway-routes';
import {
  HOSTILE_STRINGS,
  encodeLoose,
  hostileString,
  hostileValue,
  nestedJson,
} from '../support/hostile-input';
import { checkResponse } from '../support/response-check';
import { openStack } from '../support/stack';

/**
 * Property: whatever a client sends — random bodies, query strings, path ids, headers, with hostile values
 * (NUL, lone surrogates, deep nesting, extreme dates, huge strings) mixed in — every route answers without
 * a 5xx, and every error has the one error shape. gateway-fuzz-hostile.int.test.ts sends each hostile
 * value to each field in turn; this one mixes them at random.
 */
const stack = openStack();
let url: string;
let close: () => Promise<void>;
let settings: Settings;
let owner: TestUser;
let ws: TestWorkspace;
let member: TestUser;
let runId: string;
beforeAll(async () => {
  ({ url, close, settings, owner, member, ws, runId } = await startFuzzTarget(stack));
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

const routes = () => gatewayRoutes({ workspace: ws.id, member: member.id, run: runId });
// The routes' shapes (fields, not ids) are known before beforeAll: the generators below are built from them.
const ZERO = '00000000-0000-4000-8000-000000000000';
const routes0 = () => gatewayRoutes({ workspace: ZERO, member: ZERO, run: ZERO });

it('mounts exactly the declared endpoints: nothing undeclared, nothing declared and missing', async () => {
  const app = createApp({
    settings,
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
  });
  const mounted = mountedRoutes(app);
  const declared = routes().map(routeKey).sort();
  // Both directions, named, so a failure says which side is missing what.
  expect({
    undeclared: mounted.filter((r) => !declared.includes(r)),
    unmounted: declared.filter((r) => !mounted.includes(r)),
  }).toEqual({ undeclared: [], unmounted: [] });
  expect(mounted).toEqual(declared);
  expect(declared.length).toBeGreaterThanOrEqual(33);
});

const headerSafe = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());
// 'VALID' stands for the route's own valid value (workspace, member, run), so deeper code runs too.
const pathId = fc.oneof(
  fc.uuid(),
  fc.constant('VALID'),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x'),
  fc.constantFrom('..', '%00', '%2F', 'null', '0', '-1', "' OR 1=1 --"),
  fc.constantFrom(...HOSTILE_STRINGS).map(encodeLoose),
);
// Every field of every declared body, and every query field any route reads (the registry's).
const BODY_FIELDS = [...new Set(routes0().flatMap((r) => Object.keys(r.body ?? {})))];
const body = fc.oneof(
  fc.json().map((j) => ({ raw: j })),
  fc.anything().map((v) => ({ raw: JSON.stringify(v) ?? 'null' })),
  // The route's valid body with some fields replaced by hostile values.
  fc
    .dictionary(fc.constantFrom(...BODY_FIELDS), hostileValue, { maxKeys: 3 })
    .map((over) => ({ raw: undefined as string | undefined, over })),
  fc
    .record(
      {
        name: hostileValue,
        user_id: hostileValue,
        role: hostileValue,
        monthly_budget_usd: hostileValue,
        event_type: fc.oneof(fc.constant('test.event'), hostileValue),
        payload: fc.oneof(fc.record({ message: hostileString, data: hostileValue }), hostileValue),
        model: fc.oneof(fc.constantFrom('fast', 'heavy', 'gpt-9', ''), hostileValue),
        messages: fc.oneof(
          fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'x'), content: hostileString })),
          hostileValue,
        ),
        max_tokens: fc.oneof(fc.integer(), hostileValue),
        agent: fc.oneof(fc.constantFrom('cognition', 'arbiter', 'herald', 'zeus'), hostileValue),
        input: fc.oneof(
          fc.record({ topic: hostileString, depth: hostileValue }, { requiredKeys: [] }),
          fc.record({ content: hostileString }),
          hostileValue,
        ),
        banned_phrases: fc.oneof(fc.array(hostileString), hostileValue),
        required_disclaimers: fc.oneof(fc.array(hostileString), hostileValue),
      },
      { requiredKeys: [] },
    )
    .map((v) => ({ raw: JSON.stringify(v) })),
  fc.integer({ min: 30, max: 5_000 }).map((n) => ({ raw: nestedJson(n) })),
  fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
  fc.constant({ raw: undefined as string | undefined }),
);
const QUERY_KEYS = [...new Set(routes0().flatMap((r) => r.query))];
const query = fc.dictionary(
  fc.oneof(fc.constantFrom(...QUERY_KEYS), hostileString),
  fc.oneof(hostileString, fc.constant('VALID')),
  { maxKeys: 4 },
);

/** The body sent: raw text, or the route's valid body with some fields overridden. */
function bodyText(route: RouteSpec, b: { raw: string | undefined; over?: Record<string, unknown> }) {
  if (b.over) return JSON.stringify({ ...route.body, ...b.over });
  return b.raw;
}

let runs = 0;
it('answers random input on every route without a 5xx, always in the error shape', async () => {
  const all = routes();
  const valid = (name: string) => paramValue(name, { workspace: ws.id, member: member.id, run: runId });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...all),
      pathId,
      body,
      query,
      fc.record({
        workspace: fc.option(fc.oneof(fc.uuid(), headerSafe, fc.constant('VALID')), { nil: undefined }),
        contentType: fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          '',
        ),
        correlation: fc.option(headerSafe, { nil: undefined }),
        auth: fc.constantFrom('good', 'good', 'none', 'garbage', 'huge'),
      }),
      async (route, id, b, q, h) => {
        runs++;
        // One fuzzed parameter; any others keep their valid value.
        const fuzzed = route.path.match(/:(\w+)/)?.[1];
        const path = fillPath(route.path, (n) => (n === fuzzed && id !== 'VALID' ? id : valid(n)));
        const qs = Object.entries(q)
          .map(([k, v]) => `${encodeLoose(k)}=${v === 'VALID' ? ws.id : encodeLoose(v)}`)
          .join('&');
        const headers: Record<string, string> = {};
        if (h.auth === 'good') headers.authorization = `Bearer ${owner.token}`;
        if (h.auth === 'garbage') headers.authorization = 'Bearer eyJ.garbage.x';
        // Past Node's header limit: answered before Express, still in the error shape.
        if (h.auth === 'huge') headers.authorization = `Bearer ${'x'.repeat(40_000)}`;
        if (h.workspace !== undefined)
          headers['x-workspace-id'] = h.workspace === 'VALID' ? ws.id : h.workspace;
        if (h.correlation) headers['x-correlation-id'] = h.correlation;
        if (h.contentType) headers['content-type'] = h.contentType;
        const text = route.method !== 'GET' && route.method !== 'DELETE' ? bodyText(route, b) : undefined;
        const res = await fetch(`${url}${path}${qs ? `?${qs}` : ''}`, {
          method: route.method,
          headers,
          ...(text !== undefined ? { body: text } : {}),
        });
        const answer = await res.text();
        const where = `${route.method} ${path.slice(0, 200)}?${qs.slice(0, 200)}`;
        if (res.status >= 500) throw new Error(`${where} → ${res.status}: ${answer.slice(0, 500)}`);
        // Whatever got through is an answer the endpoint declares.
        let parsed: unknown = answer || undefined;
        if (res.headers.get('content-type')?.startsWith('application/json')) parsed = JSON.parse(answer);
        checkResponse(route.method, `${path}?${qs}`, {
          status: res.status,
          contentType: res.headers.get('content-type'),
          body: parsed,
        });
        if (res.status >= 400) {
          const parsed = JSON.parse(answer);
          expect(Object.keys(parsed).sort()).toEqual(['correlation_id', 'error']);
          expect(typeof parsed.error.code).toBe('string');
          expect(typeof parsed.error.message).toBe('string');
          expect(typeof parsed.correlation_id).toBe('string');
        }
      },
    ),
    { numRuns: 1500, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100_000) },
  );
  expect(runs).toBeGreaterThanOrEqual(1500);
}, 60_000);
