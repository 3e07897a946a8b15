import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';
import type { ServiceName } from '../../scripts/lib/service-process';
import { runSoak, soakProblems } from '../support/soak';
import { TestRedisCluster } from '../support/redis-cluster';

/**
 * Replicas under load: two of each service on one PostgreSQL and a Redis Cluster (3 masters, 3 replicas);
 * 300 workspaces created and 600 research runs requested in bursts through both gateways. Afterwards every
 * invariant holds (see soakProblems).
 */
const { stack, services } = useServices();
const REPLICAS = 2;
let cluster: TestRedisCluster;

beforeAll(async () => {
  cluster = await TestRedisCluster.start();
}, 120_000);

// The test stops its services first; a cluster stopped under live services would only cost reconnect noise.
afterAll(() => cluster.stop(), 60_000);

it('two of each service: 300 workspaces and 600 runs, every one done exactly once, costs exact', async () => {
  const env = serviceEnv({
    AGENT_RUNNER_CONCURRENCY: '8',
    SEEDER_CONCURRENCY: '8',
    COST_LEDGER_CONCURRENCY: '8',
  });
  const names: ServiceName[] = ['gateway', 'seeder', 'agent-runner', 'cost-ledger'];
  const started: RunningService[] = [];
  for (const name of names)
    for (let i = 0; i < REPLICAS; i++) started.push(await services.start(name, env, 90_000));
  const report = await runSoak({
    db: stack.db,
    gateways: started.filter((s) => s.name === 'gateway').map((s) => s.url),
    workspaces: 300,
    runsPerWorkspace: 2,
    burst: 40,
  });
  process.stdout.write(
    `[soak] ${JSON.stringify({ ...report, workspaceIds: undefined, runIds: undefined })}\n`,
  );
  expect(report.refused).toEqual({});
  expect(report.workspaceIds).toHaveLength(300);
  expect(report.runIds).toHaveLength(600);
  expect(await soakProblems(stack.db, report.workspaceIds, report.runIds)).toEqual([]);
  await services.stopAll();
}, 900_000);
