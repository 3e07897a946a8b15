import type { z } from 'zod';
import { fillPath } from './gateway-routes';
import { encodeLoose } from './hostile-input';
import { client } from './http';
import type { HttpResult } from './http';
import type { RouteCase } from './schema-fuzz-routes';
import { refusal } from './zod-arbitrary';

/** One request of the schema-driven fuzz: path parameters, query fields and a JSON body (any may be absent). */
export interface FuzzRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body?: unknown;
}

export interface RouteCount {
  /** Valid input, handler reached: a 2xx. */
  ok: number;
  /** Valid input, a documented domain refusal (404, 409, 402). */
  domain: number;
  /** Near-valid input refused with a 422 naming the changed field. */
  refused: number;
  hostile: number;
  /** The kinds of near-valid change refused (missing, wrong-type, too-long, bad-enum, …). */
  kinds: Set<string>;
}

export const newCount = (): RouteCount => ({ ok: 0, domain: 0, refused: 0, hostile: 0, kinds: new Set() });

/** `a=1&b=x` of the defined fields; values as a URL carries them (strings), lone surrogates sent raw. */
export function queryString(q: Record<string, unknown>): string {
  return Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');
}

export function urlOf(rc: RouteCase, r: FuzzRequest): string {
  const qs = queryString(r.query);
  return `${fillPath(rc.endpoint.path, (n) => encodeLoose(r.params[n] ?? ''))}${qs ? `?${qs}` : ''}`;
}

export async function send(base: string, rc: RouteCase, r: FuzzRequest, headers?: Record<string, string>) {
  const url = urlOf(rc, r);
  const h = headers ?? (await rc.headers());
  const hasBody = rc.endpoint.method !== 'get' && rc.endpoint.method !== 'delete' && r.body !== undefined;
  const res: HttpResult = await client(base).call(rc.endpoint.method.toUpperCase(), url, {
    headers: h,
    ...(hasBody ? { body: r.body } : {}),
  });
  return { url, res };
}

/**
 * What the gateway's own parsing says of a request, as the route will see it (query values as strings, the
 * body after a JSON round trip): undefined when it passes, else the 422's field paths.
 */
export function localVerdict(rc: RouteCase, r: FuzzRequest): string[] | undefined {
  const e = rc.endpoint;
  const strings = Object.fromEntries(
    Object.entries(r.query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const parts: Array<[z.ZodType | undefined, unknown, string]> = [
    [e.params, r.params, 'path'],
    [e.query, strings, 'query'],
    [e.body, r.body === undefined ? {} : JSON.parse(JSON.stringify(r.body)), 'body'],
  ];
  for (const [schema, value, where] of parts) {
    if (!schema) continue;
    const refused = refusal(schema, value, where);
    if (refused) return refused;
  }
  return undefined;
}

/** The error shape every refusal has; throws with the request when it does not. */
export function assertErrorShape(where: string, res: HttpResult): void {
  const b = res.body as
    { error?: { code?: unknown; message?: unknown }; correlation_id?: unknown } | undefined;
  const ok =
    b &&
    typeof b === 'object' &&
    Object.keys(b).sort().join() === 'correlation_id,error' &&
    typeof b.error?.code === 'string' &&
    typeof b.error?.message === 'string';
  if (!ok)
    throw new Error(`${where} → ${res.status} without the error shape: ${JSON.stringify(b).slice(0, 300)}`);
}

/** The field paths a 422 names. */
export function namedFields(res: HttpResult): string[] {
  const fields = (res.body?.error?.details?.fields ?? []) as Array<{ path: string }>;
  return fields.map((f) => f.path);
}

/** The per-route table printed after the run. */
export function table(counts: Map<string, RouteCount>, seed: number): string {
  const rows = [...counts].map(([k, c]) => [k, c.ok, c.domain, c.refused, c.hostile, c.kinds.size]);
  const w = Math.max(...rows.map((r) => String(r[0]).length));
  const line = (r: Array<string | number>) =>
    `${String(r[0]).padEnd(w)}  ${r
      .slice(1)
      .map((x) => String(x).padStart(8))
      .join('')}`;
  return [
    `schema fuzz (seed ${seed}; FUZZ_SEED=${seed} replays it)`,
    line(['route', '2xx', 'domain', '422', 'hostile', 'kinds']),
    ...rows.map(line),
  ].join('\n');
}
