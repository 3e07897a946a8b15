import type { TestUser } from '../support/factories';
import { startFuzzTarget } from '../support/fuzz-target';
import { fillPath, gatewayRoutes, paramNames, paramValue } from '../support/gateway-routes';
import type { RouteIds, RouteSpec } from '../support/gateway-routes';
import {
  EXTREME_DATES,
  HOSTILE_STRINGS,
  HUGE,
  LONE_SURROGATES,
  NUL,
  encodeLoose,
  nested,
  nestedJson,
} from '../support/hostile-input';
import { checkResponse } from '../support/response-check';
import { openStack } from '../support/stack';

/**
 * Every hostile value in every path parameter, query field and body field of every route, one at a time
 * with the rest of the request valid (so the value under test is what the route has to cope with): never
 * a 5xx, always the error shape, and the refusals the input rules promise (NUL and lone surrogates → 422
 * naming the field, nesting > 32 → 422, dates outside 1970–9999 → 422, oversized URL → 431).
 */
const stack = openStack();
let url: string;
let close: () => Promise<void>;
let owner: TestUser;
let ids: RouteIds;
beforeAll(async () => {
  const t = await startFuzzTarget(stack);
  ({ url, close, owner } = t);
  ids = { workspace: t.ws.id, member: t.member.id, run: t.runId };
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

interface Probe {
  route: RouteSpec;
  label: string;
  params?: Record<string, string>;
  query?: string;
  body?: string;
  /** What this input must get beyond "no 5xx, error shape": a status and the field the error names. */
  expect?: { status: number; field?: string; message?: RegExp };
}

const isBad = (s: string) => s === NUL || LONE_SURROGATES.includes(s);

function probesFor(route: RouteSpec): Probe[] {
  const probes: Probe[] = [];
  for (const name of paramNames(route.path))
    for (const s of HOSTILE_STRINGS)
      probes.push({
        route,
        label: `path.${name}=${JSON.stringify(s.slice(0, 20))}`,
        params: { [name]: encodeLoose(s) },
        // Lone surrogates arrive as invalid UTF-8 in a URL: a 400 from the router, not a 422.
        ...(s === NUL ? { expect: { status: 422, field: `path.${name}` } } : {}),
        ...(s === HUGE ? { expect: { status: 431 } } : {}),
      });
  for (const field of route.query.length ? route.query : ['x'])
    for (const s of HOSTILE_STRINGS) {
      const date = route.dates?.includes(field) && EXTREME_DATES.includes(s);
      probes.push({
        route,
        label: `query.${field}=${JSON.stringify(s.slice(0, 20))}`,
        query: `${field}=${encodeLoose(s)}`,
        ...(s === NUL && field !== 'x' ? { expect: { status: 422, field: `query.${field}` } } : {}),
        ...(date ? { expect: { status: 422, field: `query.${field}` } } : {}),
        ...(s === HUGE ? { expect: { status: 431 } } : {}),
      });
    }
  if (!route.body) return probes;
  for (const field of Object.keys(route.body)) {
    const variants: Array<[unknown, string | undefined, RegExp?]> = [];
    for (const s of HOSTILE_STRINGS) {
      const bad = isBad(s);
      variants.push([s, bad ? `body.${field}` : undefined]);
      variants.push([{ k: s }, bad ? `body.${field}.k` : undefined]);
      variants.push([[s], bad ? `body.${field}.0` : undefined]);
      variants.push([{ [s]: 1 }, bad ? `body.${field}.${spell(s)}` : undefined]);
    }
    variants.push([nested(40), 'body', /32 levels/]);
    for (const [value, field422, message] of variants)
      probes.push({
        route,
        label: `body.${field}=${JSON.stringify(value)?.slice(0, 40)}`,
        body: JSON.stringify({ ...route.body, [field]: value }),
        ...(field422 ? { expect: { status: 422, field: field422, ...(message ? { message } : {}) } } : {}),
      });
  }
  probes.push({
    route,
    label: 'body nested 5,000 levels',
    body: nestedJson(5_000),
    expect: { status: 422, field: 'body', message: /32 levels/ },
  });
  probes.push({
    route,
    label: 'body with a NUL key',
    body: JSON.stringify({ ...route.body, [NUL]: 1 }),
    expect: { status: 422, field: 'body.a\\u0000b' },
  });
  return probes;
}

/** A key as error paths spell it: NUL and surrogates as \uXXXX (the bad strings here hold no pairs). */
function spell(s: string): string {
  return [...s]
    .map((c) =>
      c === '\u0000' || /[\ud800-\udfff]/.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
    )
    .join('');
}

async function send(p: Probe): Promise<string | undefined> {
  const path = fillPath(p.route.path, (n) => p.params?.[n] ?? paramValue(n, ids));
  const headers: Record<string, string> = { authorization: `Bearer ${owner.token}` };
  if (!p.route.path.includes(':workspace_id') && !p.route.admin) headers['x-workspace-id'] = ids.workspace;
  if (p.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}${p.query ? `?${p.query}` : ''}`, {
    method: p.route.method,
    headers,
    ...(p.body !== undefined ? { body: p.body } : {}),
  });
  const text = await res.text();
  const where = `${p.route.method} ${p.route.path} ${p.label} → ${res.status}: ${text.slice(0, 300)}`;
  if (res.status >= 500) return where;
  if (res.status < 300) {
    // What got through is an answer the endpoint declares.
    const json = res.headers.get('content-type')?.startsWith('application/json');
    try {
      checkResponse(p.route.method, path, {
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: json ? JSON.parse(text) : text || undefined,
      });
    } catch (err) {
      return `${where} (${(err as Error).message})`;
    }
  }
  if (res.status >= 400) {
    let parsed: {
      error?: { code?: unknown; message?: unknown; details?: unknown };
      correlation_id?: unknown;
    };
    try {
      parsed = JSON.parse(text);
    } catch {
      return `${where} (not JSON)`;
    }
    const keys = Object.keys(parsed).sort().join();
    if (keys !== 'correlation_id,error' || typeof parsed.error?.code !== 'string')
      return `${where} (not the error shape)`;
    if (typeof parsed.correlation_id !== 'string') return `${where} (no correlation id)`;
  }
  if (p.expect) {
    if (res.status !== p.expect.status) return `${where} (expected ${p.expect.status})`;
    const body = JSON.parse(text) as {
      error: { message: string; details?: { fields?: { path: string }[] } };
    };
    const fields = body.error.details?.fields?.map((f) => f.path) ?? [];
    if (p.expect.field && !fields.includes(p.expect.field)) return `${where} (expected ${p.expect.field})`;
    if (p.expect.message && !p.expect.message.test(body.error.message)) return `${where} (message)`;
  }
  return undefined;
}

it('answers every hostile value in every field of every route without a 5xx, as the input rules say', async () => {
  const probes = gatewayRoutes(ids).flatMap(probesFor);
  const failures: string[] = [];
  // A few at a time: fast, without turning the test into a load test of a 2-core machine.
  const queue = [...probes];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const failure = await send(p);
        if (failure) failures.push(failure);
      }
    }),
  );
  expect(failures).toEqual([]);
  // The probes really covered the routes (a catalog emptied by mistake would pass vacuously).
  expect(probes.length).toBeGreaterThan(1_500);
  const routes = new Set(probes.map((p) => `${p.route.method} ${p.route.path}`));
  expect(routes.size).toBe(gatewayRoutes(ids).length);
  // ~5,000 probes, some of which store and embed memory items: about 40 s on an idle 2-core machine; the
  // limit leaves room for a machine that is also running the other test worker.
}, 240_000);
