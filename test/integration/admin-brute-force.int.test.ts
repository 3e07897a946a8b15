import crypto from 'node:crypto';
import http from 'node:http';
import express from 'express';
import { Redis as IORedis } from 'ioredis';
import { correlationMiddleware } from '../../services/gateway/src/http/correlation.middleware';
import { createLogger } from '@raptorflow/core/logging/logger';
import { errorMiddleware } from '../../services/gateway/src/http/error.middleware';
import { getSettings } from '@raptorflow/core/config/settings';
import { redisOptionsFor } from '@raptorflow/core/redis/redis.factory';
import { AdminLoginThrottle } from '../../services/gateway/src/admin/admin-login-throttle.service';
import { DEAD_LETTERS_PATH, deadLettersRouter } from '../../services/gateway/src/admin/dead-letters.routes';
import { JwtVerifier } from '../../services/gateway/src/auth/jwt-verifier';
import { startGateway } from '../support/gateway';
import { listen } from '../support/http';
import { openStack } from '../support/stack';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';

/**
 * Guessing the admin password: two real gateway apps on one Redis, each request sent from a loopback address
 * of its own choosing (Linux routes all of 127.0.0.0/8 to lo), so "another client" is a real other address
 * and not a header the app would have to trust.
 */
const stack = openStack();
const gateways: Array<{ url: string; close: () => Promise<void> }> = [];
let a: string;
let b: string;

beforeAll(async () => {
  gateways.push(await startGateway(stack), await startGateway(stack));
  [a, b] = gateways.map((g) => g.url) as [string, string];
});
afterAll(async () => {
  for (const g of gateways) await g.close();
  await stack.close();
});

/** The development defaults of the settings apply in tests: admin / raptorflow. */
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const RIGHT = basic('admin', 'raptorflow');
const WRONG = basic('admin', 'not-the-password');
const LIMIT = 10;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: any;
}

/** One GET from `from` (a loopback address), on a fresh connection so the source address is the one asked. */
function get(base: string, path: string, from: string, authorization?: string): Promise<Answer> {
  const target = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        localAddress: from,
        agent: false,
        headers: authorization ? { authorization } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* the board's HTML */
          }
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: retryAfter as string | undefined, body });
        });
      },
    );
    req.on('error', reject);
  });
}

const FAILED = '/admin/events/failed';
const BOARD = '/admin/queues/api/queues';

function expectLockedOut(res: Answer): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code: 'rate_limited', message: expect.any(String) }),
    correlation_id: expect.any(String),
  });
  const seconds = Number(res.retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(300);
}

it('locks an address out after 10 failures, the right password included, on every replica and admin path', async () => {
  const attacker = '127.0.0.11';
  // Spread over both gateways and both admin surfaces: one count per address, kept in Redis.
  for (let i = 0; i < LIMIT; i++) {
    const res = await get(i % 2 ? b : a, i % 3 ? FAILED : BOARD, attacker, WRONG);
    expect(res.status).toBe(401);
  }
  expectLockedOut(await get(a, FAILED, attacker, WRONG));
  // The password is no way out before the window has passed: that is what makes guessing pointless.
  expectLockedOut(await get(a, FAILED, attacker, RIGHT));
  expectLockedOut(await get(b, FAILED, attacker, RIGHT));
  expectLockedOut(await get(b, '/admin/queues', attacker, RIGHT));

  // Another client is not locked out with it.
  const operator = '127.0.0.12';
  expect((await get(a, FAILED, operator, RIGHT)).status).toBe(200);
  expect((await get(b, BOARD, operator, RIGHT)).status).toBe(200);
  expect((await get(b, FAILED, operator, WRONG)).status).toBe(401);
});

it('judges at most 10 of a burst of 3,000 concurrent guesses and refuses the rest unchecked', async () => {
  const attacker = '127.0.0.13';
  const statuses: number[] = [];
  // 3,000 attempts, 50 connections at a time: the reservation is atomic in Redis, so racing requests cannot
  // all slip in before the first failures are counted.
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < 3_000) {
        next += 1;
        statuses.push((await get(next % 2 ? a : b, FAILED, attacker, WRONG)).status);
      }
    }),
  );
  const count = (s: number) => statuses.filter((x) => x === s).length;
  expect(statuses).toHaveLength(3_000);
  expect(count(401)).toBe(LIMIT);
  expect(count(429)).toBe(3_000 - LIMIT);
  expectLockedOut(await get(a, FAILED, attacker, RIGHT));
}, 90_000); // 3,000 requests: seconds when idle, more when the machine runs the other test worker too

it('does not count successful logins, and counts rejected bearer tokens', async () => {
  const operator = '127.0.0.14';
  for (let i = 0; i < LIMIT - 1; i++) expect((await get(a, FAILED, operator, WRONG)).status).toBe(401);
  for (let i = 0; i < 5; i++) expect((await get(b, FAILED, operator, RIGHT)).status).toBe(200);
  expect((await get(a, FAILED, operator, 'Bearer not.a.jwt')).status).toBe(401);
  expectLockedOut(await get(a, FAILED, operator, RIGHT));
});

it('compares the password even when the user name is already wrong (no short-circuit)', async () => {
  const compare = jest.spyOn(crypto, 'timingSafeEqual');
  try {
    const from = '127.0.0.15';
    for (const authorization of [basic('nobody', 'raptorflow'), basic('admin', 'wrong'), RIGHT]) {
      compare.mockClear();
      await get(a, FAILED, from, authorization);
      // Both halves, every time: how long a refusal takes says nothing about which half was wrong.
      expect(compare).toHaveBeenCalledTimes(2);
    }
  } finally {
    compare.mockRestore();
  }
});

it('refuses admin sign-in (503) while Redis cannot count attempts, instead of not counting them', async () => {
  const deadUrl = 'redis://127.0.0.1:1';
  // disconnectTimeout: ioredis would otherwise hold this jest worker for 2 s after disconnect().
  const dead = new IORedis(deadUrl, { ...redisOptionsFor('client', deadUrl), disconnectTimeout: 10 });
  dead.on('error', () => undefined);
  try {
    const app = express();
    app.use(correlationMiddleware());
    const settings = getSettings();
    const verifier = new JwtVerifier({ secret: settings.supabaseJwtSecret, audience: settings.jwtAudience });
    const loginThrottle = new AdminLoginThrottle({ redis: dead, prefix: 'rl:dead', timeoutMs: 200 });
    app.use(
      DEAD_LETTERS_PATH,
      deadLettersRouter({
        settings,
        verifier,
        loginThrottle,
        failedEvents: new FailedEventsService({
          bus: stack.bus,
          db: stack.db,
          audit: new AuditLogService({ db: stack.db }),
        }),
      }),
    );
    app.use(errorMiddleware(createLogger('admin-brute-force-test')));
    const server = await listen(app);
    gateways.push(server);
    const res = await get(server.url, FAILED, '127.0.0.16', RIGHT);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    // Without credentials nothing needs counting: the challenge still comes.
    expect((await get(server.url, FAILED, '127.0.0.16')).status).toBe(401);
  } finally {
    dead.disconnect();
  }
});
