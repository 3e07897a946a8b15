// bench/soak: replicas under load. 300 workspaces created and 600 research runs requested in bursts of 40
// through the gateways, on the offline stand-in and a Redis Cluster of 3 masters and 3 replicas (redis-server
// processes on loopback), with two of each service (gateway, seeder, agent-runner, cost-ledger) and, as the
// baseline in the same run, one of each. Every invariant is checked after each round
// (test/support/soak.ts); throughput and p95 are printed side by side.
import type { Knex } from 'knex';
import { ServiceGroup, serviceEnv } from '../test/support/processes';
import type { ServiceName } from '../scripts/lib/service-process';
import { runSoak, soakProblems } from '../test/support/soak';
import type { SoakReport } from '../test/support/soak';
import { TestRedisCluster } from '../test/support/redis-cluster';

const SERVICES: ServiceName[] = ['gateway', 'seeder', 'agent-runner', 'cost-ledger'];

async function round(db: Knex, replicas: number, env: NodeJS.ProcessEnv): Promise<SoakReport> {
  const group = new ServiceGroup(db);
  try {
    const gateways: string[] = [];
    for (const name of SERVICES)
      for (let i = 0; i < replicas; i++) {
        const s = await group.start(name, env, 90_000);
        if (name === 'gateway') gateways.push(s.url);
      }
    const report = await runSoak({
      db,
      gateways,
      workspaces: Number(env.BENCH_SOAK_WORKSPACES ?? 300),
      runsPerWorkspace: 2,
      burst: 40,
    });
    const problems = await soakProblems(db, report.workspaceIds, report.runIds);
    if (problems.length > 0 || Object.keys(report.refused).length > 0)
      throw new Error(
        `soak with ${replicas} of each broke an invariant: ${[...problems, JSON.stringify(report.refused)].join('; ')}`,
      );
    return report;
  } finally {
    await group.stopAll();
  }
}

export async function runSoakBench(db: Knex): Promise<string[]> {
  const cluster = await TestRedisCluster.start();
  let one: SoakReport;
  let two: SoakReport;
  try {
    const env = serviceEnv({
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_URL: '',
      AGENT_RUNNER_CONCURRENCY: '8',
      SEEDER_CONCURRENCY: '8',
      COST_LEDGER_CONCURRENCY: '8',
    });
    one = await round(db, 1, env);
    two = await round(db, 2, env);
  } finally {
    await cluster.stop();
  }
  const line = (label: string, r: SoakReport) =>
    `  ${label.padEnd(28)} creates ${r.createsPerSecond.toFixed(1)}/s (p95 ${r.createP95Ms.toFixed(0)} ms), all seeded after ${(r.seededAfterMs / 1000).toFixed(1)} s; ` +
    `runs ${r.runsPerSecond.toFixed(2)}/s, request → completed p50 ${(r.runP50Ms / 1000).toFixed(1)} s, p95 ${(r.runP95Ms / 1000).toFixed(1)} s`;
  return [
    `bench/soak (${one.workspaceIds.length} workspaces, ${one.runIds.length} research runs, bursts of 40, offline stand-in, Redis Cluster 3+3; every invariant checked after each round)`,
    line('2 of each service', two),
    line('baseline: 1 of each service', one),
    `  ratio: runs ${(two.runsPerSecond / one.runsPerSecond).toFixed(2)}×, creates ${(two.createsPerSecond / one.createsPerSecond).toFixed(2)}× of the single-replica stack`,
  ];
}
