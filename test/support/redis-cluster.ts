import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { RedisClusterSettings } from '@raptorflow/core/config/settings';
import { ROOT, freePort, redisCall } from '../../scripts/lib/local-stack';
import { waitForExit } from '../../scripts/lib/service-process';

interface ClusterNodeProcess {
  port: number;
  child: ChildProcess;
  log: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(bin: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
  if (!found)
    throw new Error(`${bin} is not on PATH: this test runs a Redis Cluster (apt-get install redis-server)`);
  return found;
}

/** One command on one node (a dead node answers with an error). */
const nodeCommand = (port: number, args: string[]) => redisCall(`redis://127.0.0.1:${port}`, args);

/**
 * A Redis Cluster of `redis-server` processes on free loopback ports: 3 masters with a replica each, no
 * persistence (a failover, not a restart, is what the tests exercise), data and node files under `.data/`.
 * A short cluster-node-timeout makes a replica take over a killed master within a few seconds.
 */
export class TestRedisCluster {
  private constructor(
    readonly dir: string,
    private readonly nodes: ClusterNodeProcess[],
  ) {}

  static async start(opts: { masters?: number; nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
    const server = which('redis-server');
    const cli = which('redis-cli');
    const masters = opts.masters ?? 3;
    const dir = path.join(ROOT, '.data', `redis-cluster-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(dir, { recursive: true });
    const nodes: ClusterNodeProcess[] = [];
    const cluster = new TestRedisCluster(dir, nodes);
    // A test process that dies before stop() must not leave six redis-servers behind.
    process.once('exit', () => nodes.forEach((n) => n.child.kill('SIGKILL')));
    try {
      for (let i = 0; i < masters * 2; i++) {
        // freePort closes its probe before the server binds; distinct ports per node are checked here.
        let port = await freePort();
        while (nodes.some((n) => n.port === port)) port = await freePort();
        nodes.push(cluster.spawnNode(server, port, opts.nodeTimeoutMs ?? 2_000));
      }
      for (const n of nodes)
        await cluster.until(
          `node ${n.port} answers`,
          async () => (await nodeCommand(n.port, ['PING'])) === 'PONG',
        );
      const create = spawnSync(
        cli,
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (create.status !== 0)
        throw new Error(
          `redis-cli --cluster create failed (${create.status}):\n${create.stdout}\n${create.stderr}`,
        );
      await cluster.untilHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private spawnNode(bin: string, port: number, nodeTimeoutMs: number): ClusterNodeProcess {
    const child = spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(this.dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        // A replica is only a failover candidate once it has synced; do not wait 5 s for more replicas first.
        '--repl-diskless-sync-delay',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const node: ClusterNodeProcess = { port, child, log: [] };
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (l) => {
        if (node.log.length < 1_000) node.log.push(l);
      });
    return node;
  }

  /** The seeds as REDIS_CLUSTER_NODES wants them. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  get settings(): RedisClusterSettings {
    return {
      nodes: this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      tls: false,
      password: undefined,
    };
  }

  private alive(): ClusterNodeProcess[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  /** The port of the live master that serves `key`'s slot (CLUSTER KEYSLOT, then CLUSTER SLOTS). */
  async masterOf(key: string): Promise<number> {
    const any = this.alive()[0]!.port;
    const slot = Number(await nodeCommand(any, ['CLUSTER', 'KEYSLOT', key]));
    const ranges = (await nodeCommand(any, ['CLUSTER', 'SLOTS'])) as Array<
      [number, number, [string, number]]
    >;
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot} of ${key}`);
    return Number(range[2][1]);
  }

  /** SIGKILLs the node on `port`; resolves once the process is gone. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    const exited = waitForExit(node.child, 5_000);
    node.child.kill('SIGKILL');
    await exited;
  }

  /**
   * Resolves once every live node says cluster_state:ok, every slot's master is a live node (after a kill: the
   * failover is done and every node has learnt of it) and every replica of a live master is in sync. Returns
   * how long it waited.
   */
  async untilHealthy(timeoutMs = 30_000): Promise<number> {
    const start = Date.now();
    await this.until(
      'cluster_state:ok on every live node with live masters',
      async () => {
        const live = this.alive().map((n) => n.port);
        for (const port of live) {
          const info = String(await nodeCommand(port, ['CLUSTER', 'INFO']));
          if (!/^cluster_state:ok\b/m.test(info)) return false;
          const ranges = (await nodeCommand(port, ['CLUSTER', 'SLOTS'])) as Array<
            [number, number, [string, number]]
          >;
          if (!ranges.every((r) => live.includes(Number(r[2][1])))) return false;
          // Every replica of a live master holds its data (else it could not take over in a failover).
          const replication = String(await nodeCommand(port, ['INFO', 'replication']));
          const master = /^master_port:(\d+)/m.exec(replication);
          if (master && live.includes(Number(master[1])) && !/^master_link_status:up/m.test(replication))
            return false;
        }
        return true;
      },
      timeoutMs,
    );
    return Date.now() - start;
  }

  private async until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) {
        const logs = this.nodes.map((n) => `--- node ${n.port}\n${n.log.slice(-10).join('\n')}`).join('\n');
        throw new Error(`Redis Cluster: no ${what} within ${timeoutMs} ms\n${logs}`);
      }
      await sleep(100);
    }
  }

  /** Kills every node and removes the cluster's directory. */
  async stop(): Promise<void> {
    await Promise.all(
      this.alive().map((n) => {
        const exited = waitForExit(n.child, 5_000);
        n.child.kill('SIGKILL');
        return exited;
      }),
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
