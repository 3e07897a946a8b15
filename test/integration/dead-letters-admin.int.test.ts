import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import express from 'express';
import { HealthService } from '@raptorflow/core/health/health.service';
import { buildEnvelope } from '@raptorflow/events/bus/envelope';
import { correlationMiddleware } from '../../services/gateway/src/http/correlation.middleware';
import { createLogger } from '@raptorflow/core/logging/logger';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import { errorMiddleware, notFoundMiddleware } from '../../services/gateway/src/http/error.middleware';
import { getSettings } from '@raptorflow/core/config/settings';
import { startHealthServer } from '@raptorflow/events/worker/health-server';
import type { Settings } from '@raptorflow/core/config/settings';
import { httpMetricsMiddleware } from '../../services/gateway/src/http/http-metrics.middleware';
import { getMetrics, metricsHandler, registerQueueDepth } from '@raptorflow/core/metrics/metrics';
import { AdminLoginThrottle } from '../../services/gateway/src/admin/admin-login-throttle.service';
import { DEAD_LETTERS_PATH, deadLettersRouter } from '../../services/gateway/src/admin/dead-letters.routes';
import { JwtVerifier } from '../../services/gateway/src/auth/jwt-verifier';
import { newUser } from '../support/factories';
import type { TestUser } from '../support/factories';
import { expectError } from '../support/gateway';
import { client, eventually, listen } from '../support/http';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';

const stack = openStack();
const workers: Worker[] = [];
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  await stack.close(workers);
});

const queue = stack.bus.queue('system');
let broken = true;
let admin: TestUser;
let url: string;

/** The development defaults of parseSettings apply in ENVIRONMENT=test too: admin / raptorflow. */
const BASIC = { authorization: `Basic ${Buffer.from('admin:raptorflow').toString('base64')}` };

/** The gateway's framing (correlation ids, metrics, error shape) around the router, as app.ts mounts it. */
async function adminServer(settings: Settings): Promise<string> {
  const app = express();
  app.use(correlationMiddleware());
  app.use(httpMetricsMiddleware());
  app.use(express.json());
  app.get('/metrics', metricsHandler(getMetrics().registry));
  const verifier = new JwtVerifier({ secret: settings.supabaseJwtSecret, audience: settings.jwtAudience });
  // The lockout is tested in admin-brute-force.int.test.ts; this file makes two failed attempts.
  const loginThrottle = new AdminLoginThrottle({
    redis: stack.redis,
    prefix: `rl:${stack.prefix.replace(/[{}]/g, '')}`,
  });
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
  app.use(notFoundMiddleware());
  app.use(errorMiddleware(createLogger('dead-letters-admin-test')));
  const server = await listen(app);
  cleanups.push(server.close);
  return server.url;
}

/** A job that fails once, for good (one attempt), and is dead-lettered. */
async function deadLetter(): Promise<string> {
  const env = buildEnvelope('test.event', { message: 'm' }, { workspaceId: null });
  await queue.add('test.event', env, { jobId: env.event_id, attempts: 1 });
  await eventually(async () => (await queue.getJobState(env.event_id)) === 'failed');
  return env.event_id;
}

beforeAll(async () => {
  admin = await newUser();
  url = await adminServer({ ...getSettings(), adminUserIds: [admin.id] });
  workers.push(
    createWorker(
      'system',
      {
        'test.event': async () => {
          if (broken) throw new Error('dependency down');
        },
      },
      workerOptions(stack),
    ),
  );
});

describe('admin dead-letter endpoints', () => {
  it('401s without or with wrong credentials, 403s a non-admin token and cross-site replays', async () => {
    const anon = client(url);
    for (const res of [
      await anon.get('/admin/events/failed'),
      await anon.post(`/admin/events/${randomUUID()}/replay`),
      await anon.get('/admin/events/failed', {
        headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
      }),
    ]) {
      expectError(res, 401, 'unauthenticated');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    expectError(
      await client(url, (await newUser()).token).get('/admin/events/failed'),
      403,
      'permission_denied',
    );
    expectError(
      await anon.post(`/admin/events/${randomUUID()}/replay`, undefined, {
        headers: { ...BASIC, 'sec-fetch-site': 'cross-site' },
      }),
      403,
      'permission_denied',
    );
  });

  it('lists dead letters and replays one with basic auth or an admin token', async () => {
    broken = true;
    const first = await deadLetter();
    const second = await deadLetter();
    const ops = client(url);

    const list = await ops.get('/admin/events/failed?limit=100&queue=system', { headers: BASIC });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toContainEqual({
      event_id: first,
      event_type: 'test.event',
      queue: 'system',
      workspace_id: null,
      attempts_made: 1,
      failed_reason: 'dependency down',
      failed_at: expect.any(String),
    });
    expectError(await ops.get('/admin/events/failed?limit=0', { headers: BASIC }), 422, 'validation_failed');
    expectError(
      await ops.get('/admin/events/failed?queue=nope', { headers: BASIC }),
      422,
      'validation_failed',
    );

    broken = false;
    const replay = await ops.post(`/admin/events/${first}/replay`, undefined, { headers: BASIC });
    expect(replay).toMatchObject({ status: 202, body: { event_id: first, replayed_from: 'failed_set' } });
    const byToken = await client(url, admin.token).post(`/admin/events/${second}/replay`);
    expect(byToken).toMatchObject({ status: 202, body: { event_id: second, replayed_from: 'failed_set' } });
    for (const id of [first, second])
      await eventually(async () => (await queue.getJobState(id)) === 'completed');

    const actors = await stack
      .db('audit_logs')
      .where({ action: 'event.replayed' })
      .whereIn('resource_id', [first, second]);
    expect(actors.map((a) => [a.resource_id, a.actor_type, a.actor_id]).sort()).toEqual(
      [
        [first, 'system', 'basic:admin'],
        [second, 'user', admin.id],
      ].sort(),
    );

    expectError(
      await ops.post(`/admin/events/${first}/replay`, undefined, { headers: BASIC }),
      409,
      'conflict',
    );
    expectError(
      await ops.post(`/admin/events/${randomUUID()}/replay`, undefined, { headers: BASIC }),
      404,
      'not_found',
    );
    expectError(
      await ops.post('/admin/events/nope/replay', undefined, { headers: BASIC }),
      422,
      'validation_failed',
    );
  });
});

describe('metrics', () => {
  it('labels HTTP latency with the matched route pattern, also when the route answered with an error', async () => {
    const anon = client(url);
    await anon.get('/no/such/page');
    await anon.post(`/admin/events/${randomUUID()}/replay`, undefined, { headers: BASIC });
    const text = (await anon.get('/metrics')).body as string;
    expect(text).toMatch(
      /raptorflow_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} [1-9]/,
    );
    expect(text).toMatch(
      /raptorflow_http_request_duration_seconds_count\{method="POST",route="\/admin\/events\/:event_id\/replay",status="404"\} [1-9]/,
    );
    expect(text).toMatch(
      /raptorflow_http_request_duration_seconds_count\{method="GET",route="\/admin\/events\/failed",status="200"\} [1-9]/,
    );
    expect(text).not.toMatch(/route="\/admin\/events\/[0-9a-f]{8}-/);
  });

  it('serves job counters, durations, dead letters and queue depth on a worker health port', async () => {
    broken = true;
    await deadLetter();
    broken = false;
    const ok = buildEnvelope('test.event', {}, { workspaceId: null });
    await queue.add('test.event', ok, { jobId: ok.event_id });
    await eventually(async () => (await queue.getJobState(ok.event_id)) === 'completed');

    cleanups.push(registerQueueDepth([queue]));
    const health = new HealthService({
      service: 'test',
      db: stack.db,
      redis: stack.redis,
      settings: getSettings(),
      models: () => [],
    });
    const server: Server & { port: number } = await startHealthServer(health, 0, getMetrics().registry);
    cleanups.push(() => new Promise((r) => server.close(r)));
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const failed = await queue.getFailedCount();
    for (const line of [
      /raptorflow_jobs_total\{queue="system",event="test.event",outcome="completed"\} [1-9]/,
      /raptorflow_jobs_total\{queue="system",event="test.event",outcome="dead"\} [1-9]/,
      /raptorflow_job_duration_seconds_count\{queue="system",event="test.event",outcome="completed"\} [1-9]/,
      /raptorflow_job_duration_seconds_bucket\{le="0.005",queue="system",event="test.event",outcome="completed"\}/,
      /raptorflow_dead_letters_total\{queue="system",event="test.event"\} [1-9]/,
      new RegExp(`raptorflow_queue_jobs\\{queue="system",state="failed"\\} ${failed}\\n`),
      /raptorflow_queue_jobs\{queue="system",state="waiting"\} 0/,
      /process_cpu_user_seconds_total/,
      /nodejs_eventloop_lag_seconds/,
    ])
      expect(text).toMatch(line);
  });
});
