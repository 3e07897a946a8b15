import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import { z } from 'zod';
import {
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthenticatedError,
} from '@raptorflow/core/errors/app-error';
import { CORRELATION_HEADER, correlationMiddleware } from './correlation.middleware';
import { errorMiddleware, notFoundMiddleware } from './error.middleware';

const SECRET_TEXT = 'db password is hunter2 at postgres://app:hunter2@db.internal/raptorflow';
const BUDGET = { budget_usd: 50, spent_usd: 49.5, reserved_usd: 0.25, requested_usd: 1.5 };

const logLines: Array<Record<string, any>> = [];
const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use(correlationMiddleware());
  app.use(express.json({ limit: '1mb' }));
  app.get('/not-found', () => {
    throw new NotFoundError('Workspace not found');
  });
  app.get('/conflict', () => {
    throw new ConflictError('The last owner cannot be removed', { user_id: 'u1' });
  });
  app.get('/forbidden', () => {
    throw new PermissionDeniedError();
  });
  app.get('/unauthenticated', () => {
    throw new UnauthenticatedError('Token has expired');
  });
  app.get('/budget', async () => {
    await Promise.resolve();
    throw new BudgetExceededError(BUDGET);
  });
  app.get('/rate-limited', () => {
    throw new RateLimitedError(2.2);
  });
  app.get('/unavailable', () => {
    throw new ServiceUnavailableError();
  });
  app.post('/zod', (req, res) => {
    const body = z
      .object({ name: z.string().min(1), settings: z.object({ budget: z.number() }) })
      .parse(req.body);
    res.json(body);
  });
  app.post('/echo', (req, res) => {
    res.json({ got: req.body });
  });
  app.get('/boom', () => {
    throw new Error(SECRET_TEXT);
  });
  app.get('/boom-async', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new TypeError(SECRET_TEXT);
  });
  app.get('/boom-string', () => {
    throw SECRET_TEXT;
  });
  app.use(notFoundMiddleware());
  app.use(errorMiddleware(logger));

  server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  logLines.length = 0;
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function call(path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${baseUrl}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}

/** SPEC §5: `{"error":{"code","message","details"?},"correlation_id"}` — and nothing else. */
function expectErrorShape(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(reply.body).sort()).toEqual(['correlation_id', 'error']);
  const keys = Object.keys(reply.body.error);
  expect(keys).toEqual(expect.arrayContaining(['code', 'message']));
  expect(keys.every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
  expect(reply.body.error.code).toBe(code);
  expect(typeof reply.body.error.message).toBe('string');
  expect(reply.body.error.message.length).toBeGreaterThan(0);
  expect(typeof reply.body.correlation_id).toBe('string');
  expect(reply.body.correlation_id).toBe(reply.headers.get(CORRELATION_HEADER));
  expect(reply.text).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack trace
}

describe('errorMiddleware: AppErrors', () => {
  it('NotFoundError → 404 not_found with its message', async () => {
    const r = await call('/not-found');
    expectErrorShape(r, 404, 'not_found');
    expect(r.body.error.message).toBe('Workspace not found');
    expect(r.body.error).not.toHaveProperty('details');
  });

  it('ConflictError → 409 conflict with details', async () => {
    const r = await call('/conflict');
    expectErrorShape(r, 409, 'conflict');
    expect(r.body.error.details).toEqual({ user_id: 'u1' });
  });

  it('PermissionDeniedError → 403 permission_denied', async () => {
    expectErrorShape(await call('/forbidden'), 403, 'permission_denied');
  });

  it('UnauthenticatedError → 401 unauthenticated with WWW-Authenticate', async () => {
    const r = await call('/unauthenticated');
    expectErrorShape(r, 401, 'unauthenticated');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('BudgetExceededError (thrown from an async handler) → 402 with budget, spent, reserved, requested', async () => {
    const r = await call('/budget');
    expectErrorShape(r, 402, 'budget_exceeded');
    expect(r.body.error.details).toEqual(BUDGET);
  });

  it('RateLimitedError → 429 rate_limited with a whole-second Retry-After', async () => {
    const r = await call('/rate-limited');
    expectErrorShape(r, 429, 'rate_limited');
    expect(r.headers.get('retry-after')).toBe('3');
  });

  it('ServiceUnavailableError → 503 service_unavailable with Retry-After, logged as a warning', async () => {
    const r = await call('/unavailable');
    expectErrorShape(r, 503, 'service_unavailable');
    expect(r.headers.get('retry-after')).toBe('5');
    expect(logLines.some((l) => l.level === 40 && l.code === 'service_unavailable')).toBe(true);
  });

  it('4xx AppErrors are not logged as errors', async () => {
    await call('/not-found');
    expect(logLines.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('errorMiddleware: zod', () => {
  it('a ZodError → 422 validation_failed with one field path per problem', async () => {
    const r = await call('/zod', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '', settings: { budget: 'lots' } }),
    });
    expectErrorShape(r, 422, 'validation_failed');
    const paths = r.body.error.details.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['name', 'settings.budget']);
    for (const f of r.body.error.details.fields) expect(typeof f.message).toBe('string');
  });

  it('a missing body is a 422, not a 500', async () => {
    const r = await call('/zod', { method: 'POST' });
    expectErrorShape(r, 422, 'validation_failed');
  });

  it('a valid body passes through', async () => {
    const res = await fetch(`${baseUrl}/zod`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ok', settings: { budget: 1 } }),
    });
    expect(res.status).toBe(200);
  });
});

describe('errorMiddleware: unexpected errors', () => {
  it.each(['/boom', '/boom-async', '/boom-string'])(
    '%s → 500 internal_error, generic message, error_id logged with the error',
    async (path) => {
      const r = await call(path);
      expectErrorShape(r, 500, 'internal_error');
      expect(r.text).not.toContain('hunter2');
      expect(r.body.error.message).not.toContain(SECRET_TEXT);
      expect(r.body.error.message).not.toContain('db password');
      const errorId = r.body.error.details?.error_id;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);

      const logged = logLines.filter((l) => l.level === 50);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.error_id).toBe(errorId);
      expect(logged[0]!.path).toBe(path);
      expect(JSON.stringify(logged[0]!.err)).toContain('db password');
    },
  );

  it('a new error_id per failure', async () => {
    const a = await call('/boom');
    const b = await call('/boom');
    expect(a.body.error.details.error_id).not.toBe(b.body.error.details.error_id);
  });

  it('logs the stack for an Error', async () => {
    await call('/boom');
    const logged = logLines.find((l) => l.level === 50);
    expect(logged?.err?.stack).toEqual(expect.stringContaining('Error:'));
  });
});

describe('errorMiddleware: body parsing', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const r = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "unterminated',
    });
    expectErrorShape(r, 400, 'invalid_json');
    expect(r.text).not.toContain('unterminated');
    expect(logLines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('a body over 1 MiB → 413', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) });
    const r = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expectErrorShape(r, 413, 'payload_too_large');
  });

  it('a body just under 1 MiB is accepted', async () => {
    const body = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 - 100) });
    const res = await fetch(`${baseUrl}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it('an unsupported charset is a 4xx, not a 500', async () => {
    const r = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=klingon' },
      body: '{}',
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(Object.keys(r.body).sort()).toEqual(['correlation_id', 'error']);
  });
});

describe('notFoundMiddleware and correlation', () => {
  it('an unknown route → 404 not_found', async () => {
    const r = await call('/v1/nothing-here', { method: 'DELETE' });
    expectErrorShape(r, 404, 'not_found');
    expect(r.body.error.message).toContain('/v1/nothing-here');
  });

  it('echoes a valid client correlation id in the header and the body', async () => {
    const r = await call('/not-found', { headers: { [CORRELATION_HEADER]: 'client-req.42_x' } });
    expect(r.headers.get(CORRELATION_HEADER)).toBe('client-req.42_x');
    expect(r.body.correlation_id).toBe('client-req.42_x');
  });

  it('replaces an unsafe client correlation id with a UUID', async () => {
    const r = await call('/not-found', { headers: { [CORRELATION_HEADER]: 'bad id with spaces' } });
    expect(r.body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get(CORRELATION_HEADER)).toBe(r.body.correlation_id);
  });

  it('keeps the client correlation id on body-parser errors too', async () => {
    const r = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: 'corr-json-1' },
      body: '{',
    });
    expect(r.body.correlation_id).toBe('corr-json-1');
  });
});
