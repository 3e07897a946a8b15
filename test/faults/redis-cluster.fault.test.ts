import type { Knex } from 'knex';
import { createDatabase } from '@raptorflow/core/db/database';
import { closeRedisConnections, createRedis } from '@raptorflow/core/redis/redis.factory';
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
import { TestRedisCluster } from '../support/redis-cluster';

/**
 * The whole stack on a Redis Cluster (3 masters, 3 replicas, `redis-server` processes on loopback) with
 * REDIS_CLUSTER_NODES and no REDIS_URL: the gateway, seeder, agent-runner and cost-ledger as real processes on
 * the test worker's PostgreSQL. Workspaces are created over the API and seeded, then, under a steady stream of
 * creates, research runs and model dispatches, the master serving the queue prefix's slot is SIGKILLed.
 *
 * Proves: every answer is the accepted status or a clean 503 (never a 500 or a dropped request); after the
 * replica takes over, every accepted workspace has seven Lords and one `workspace.created` event, every
 * accepted run completed exactly once, every accepted dispatch has its cost row, the ledger folded every cost
 * row into rollups equal to SUM(cost_logs), the same processes did it without a restart, and their /health
 * says Redis is ok again.
 */
const RESEARCH_STEPS = ['recall', 'plan', 'gather', 'synthesize', 'remember'];
const SEEDED_BEFORE = 3;

let cluster: TestRedisCluster;
let db: Knex;
let bus: RaptorBus;
let services: ServiceGroup;
let gateway: RunningService;
let workers: RunningService[];
let user: TestUser;
const timings: Record<string, number> = {};

beforeAll(async () => {
  let t = Date.now();
  cluster = await TestRedisCluster.start();
  timings.cluster_start_ms = Date.now() - t;
  db = createDatabase({ url: getSettings().databaseUrl, poolMax: 5 });
  bus = new RaptorBus({
    db,
    prefix: getSettings().queuePrefix,
    connection: createRedis('producer', cluster.settings),
  });
  services = new ServiceGroup(db);
  const env = serviceEnv({
    REDIS_CLUSTER_NODES: cluster.seeds,
    // Blank is unset: nothing may reach the single Redis the other tests use.
    REDIS_URL: '',
    LLM_PROVIDER: 'local',
    // Each stand-in model call takes a while, so runs are mid-flight when the master dies.
    LOCAL_PROVIDER_LATENCY_MS: '150',
    MAX_WORKSPACES_PER_USER: '10000',
    // A job whose completion was lost with the master comes back within seconds, not a minute.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '5000',
    LEDGER_RECONCILE_INTERVAL_MS: '0',
  });
  t = Date.now();
  const started = await Promise.all(
    (['gateway', 'seeder', 'agent-runner', 'cost-ledger'] as const).map((n) => services.start(n, env)),
  );
  timings.services_ready_ms = Date.now() - t;
  gateway = started[0]!;
  workers = started.slice(1);
  user = await newUser();
}, 120_000);

afterAll(async () => {
  await services?.stopAll();
  for (const name of QUEUE_NAMES)
    await bus
      ?.queue(name)
      .obliterate({ force: true })
      .catch(() => undefined);
  await bus?.close();
  await closeRedisConnections();
  await db?.destroy();
  await cluster?.stop();
  process.stdout.write(`[redis-cluster] timings ${JSON.stringify(timings)}\n`);
}, 60_000);

function serviceTails(): string {
  return [gateway, ...workers].map((s) => `${s.name}:\n${outputTail(s.child, 12)}`).join('\n');
}

async function redisCheck(s: RunningService): Promise<string | undefined> {
  const res = await fetch(`${s.url}/health`).catch(() => undefined);
  return ((await res?.json().catch(() => undefined)) as { checks?: { redis?: { status?: string } } })?.checks
    ?.redis?.status;
}

it('runs on the cluster: workspaces created over the API get their seven Lords; /health checks the cluster', async () => {
  const api = client(gateway.url, user.token);
  for (let i = 0; i < SEEDED_BEFORE; i++)
    expect((await api.post('/v1/workspaces', { name: `cluster-${i}` })).status).toBe(201);
  const facts = await eventually(
    async () => {
      const f = await workspaceFacts(db, user.id);
      return f.length === SEEDED_BEFORE && f.every((w) => w.lords === 7) ? f : undefined;
    },
    30_000,
    100,
  );
  expect(facts.every((w) => w.created_events === 1)).toBe(true);
  for (const s of [gateway, ...workers]) expect(await redisCheck(s)).toBe('ok');
  // The services' jobs went through the cluster, none through the single Redis the test process knows.
  expect(await bus.queue('workspace').getCompletedCount()).toBeGreaterThanOrEqual(SEEDED_BEFORE);
}, 60_000);

it('kills the master of the queue slot under load: nothing accepted is lost, every run completes once', async () => {
  const pids = [gateway, ...workers].map((s) => s.child.pid);
  const [runsHere] = await workspaceFacts(db, user.id);
  await db('workspace_budgets').insert({ workspace_id: runsHere!.id, monthly_budget_usd: '100000' });
  const load = new OutageLoad({
    gatewayUrl: gateway.url,
    token: user.token,
    workspaceId: runsHere!.id,
    lanes: { create: 2, run: 2, dispatch: 2 },
    paceMs: 150,
    requestTimeoutMs: 60_000,
  });
  const accepted = { create: 201, run: 202, dispatch: 200 } as const;
  const atLeast = (n: number, from = 0) => OP_KINDS.every((k) => load.count(k, accepted[k], from) >= n);
  load.start();
  await eventually(async () => atLeast(3), 30_000, 50);

  // BullMQ keeps every key of every queue under the prefix's hash tag: one slot, one master.
  const master = await cluster.masterOf(`${getSettings().queuePrefix}:agent:id`);
  const killedAt = Date.now();
  await cluster.kill(master);
  timings.failover_ms = await cluster.untilHealthy();
  const healthyAt = Date.now();
  // The stack keeps accepting and working after the failover, in the same processes.
  await eventually(async () => atLeast(3, healthyAt), 60_000, 50).catch((err: Error) => {
    throw new Error(`${err.message}: the API did not recover\n${serviceTails()}`);
  });
  const outcomes = await load.stop();
  timings.load_requests = outcomes.length;
  timings.answered_503 = outcomes.filter((o) => o.status === 503).length;
  timings.slowest_answer_during_failover_ms = Math.max(
    ...outcomes
      .filter((o) => o.started >= killedAt && o.started <= healthyAt)
      .map((o) => o.ended - o.started),
  );

  expect(outcomes.filter(isUnclean)).toEqual([]);
  expect(outcomes.filter((o) => o.status === 500)).toEqual([]);

  const createdIds = acceptedIds(outcomes, 'create');
  const facts = await seededWorkspaceFacts(db, user.id, serviceTails);
  expect(facts.map((w) => w.id)).toEqual(expect.arrayContaining(createdIds));
  expect(facts.filter((w) => w.created_events !== 1)).toEqual([]);

  const runIds = acceptedIds(outcomes, 'run');
  const runs = await endedRunFacts(db, runIds, serviceTails);
  expect(
    runs.filter(
      (r) =>
        r.status !== 'completed' ||
        r.step_keys.join() !== RESEARCH_STEPS.join() ||
        r.steps_not_completed !== 0 ||
        r.completed_events !== 1 ||
        r.run_cost !== r.steps_cost ||
        r.steps_cost !== r.cost_rows_cost,
    ),
  ).toEqual([]);

  const direct: Array<{ id: string }> = await db('cost_logs')
    .where({ actor_user_id: user.id })
    .whereNull('agent_run_id')
    .select('id');
  expect(direct.map((r) => r.id).sort()).toEqual(acceptedIds(outcomes, 'dispatch').sort());

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
  // Nothing left in the outbox: every accepted event reached the cluster, by the fast path or, for those
  // the dying master refused, by the relay (attempts > 1: the fast path failed and the relay re-sent it).
  const outbox: Array<{ pending: number; retried: number }> = await db('event_outbox')
    .whereIn('workspace_id', wsIds)
    .select(
      db.raw('count(*) FILTER (WHERE enqueued_at IS NULL)::int AS pending'),
      db.raw('count(*) FILTER (WHERE attempts > 1)::int AS retried'),
    );
  expect(outbox[0]!.pending).toBe(0);
  timings.events_relayed_after_refusal = outbox[0]!.retried;

  expect([gateway, ...workers].filter((s) => hasExited(s.child)).map((s) => s.name)).toEqual([]);
  expect([gateway, ...workers].map((s) => s.child.pid)).toEqual(pids);
  for (const s of [gateway, ...workers])
    expect(await eventually(async () => (await redisCheck(s)) === 'ok', 30_000, 200)).toBe(true);
  timings.test_after_kill_ms = Date.now() - killedAt;
}, 290_000);
