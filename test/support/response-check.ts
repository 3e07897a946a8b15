import type { AnyEndpoint } from '../../services/gateway/src/http/endpoint';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';

/**
 * Checks an answer of the gateway against its endpoint's declaration: a 2xx status must be declared, its
 * content type must be the declared one and its body must parse with the declared schema. test/support/http.ts
 * runs it on every call, so every integration test that talks to the gateway proves the documented
 * responses too. Errors are left to expectError (their shape) and the fuzzes.
 */

interface Matcher {
  endpoint: AnyEndpoint;
  method: string;
  pattern: RegExp;
}

// Express's matching: case-insensitive, an optional trailing slash, a parameter is one non-empty segment.
const MATCHERS: Matcher[] = GATEWAY_ENDPOINTS.map((endpoint) => ({
  endpoint,
  method: endpoint.method.toUpperCase(),
  pattern: new RegExp(
    `^${endpoint.path
      .split(/(:\w+)/)
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}/?$`,
    'i',
  ),
}));

/** The endpoint that serves `METHOD /path?query`, first match in registry order, as Express picks it. */
export function endpointFor(method: string, url: string): AnyEndpoint | undefined {
  const path = url.split('?')[0]!;
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return MATCHERS.find((x) => x.method === m && x.pattern.test(path))?.endpoint;
}

export interface Answer {
  status: number;
  contentType: string | null;
  /** Parsed JSON, or the text when the body is not JSON; undefined when empty. */
  body: unknown;
}

/** Throws when a 2xx answer does not match what its endpoint declares; other answers pass. */
export function checkResponse(method: string, url: string, answer: Answer): void {
  if (answer.status < 200 || answer.status >= 300) return;
  const endpoint = endpointFor(method, url);
  // Not a declared endpoint: Bull Board's own pages and API under /admin/queues, static files.
  if (!endpoint) return;
  const where = `${method.toUpperCase()} ${url.slice(0, 200)} → ${answer.status}`;
  const spec = endpoint.responses[answer.status];
  if (!spec) throw new Error(`${where}: status not declared by ${endpoint.method} ${endpoint.path}`);
  if (!spec.schema) {
    if (answer.body !== undefined && answer.body !== '')
      throw new Error(`${where}: declared without a body, got ${JSON.stringify(answer.body).slice(0, 200)}`);
    return;
  }
  const declared = spec.contentType ?? 'application/json';
  const actual = answer.contentType?.split(';')[0]?.trim().toLowerCase();
  if (actual !== declared) throw new Error(`${where}: content type ${actual}, declared ${declared}`);
  const parsed = spec.schema.safeParse(answer.body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${where}: body does not match the declared schema (${issues})`);
  }
}
