import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { Redis } from 'ioredis';

/** SPEC §2 discovery, shared by `npm start` and `npm test`. */
export const ROOT = path.resolve(__dirname, '..', '..');

export interface Dependency {
  url: string;
  description: string;
  stop: () => Promise<void>;
}

export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
  try {
    return await tryPort(preferred);
  } catch {
    return tryPort(0);
  }
}

/** One command on a connection of its own, without retries: a server that is down answers with an error. */
export async function redisCall(url: string, args: string[], timeoutMs = 1_000): Promise<unknown> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  return redisCall(url, ['PING'], timeoutMs).then(
    (reply) => reply === 'PONG',
    () => false,
  );
}

/** Resolves when the child has exited; SIGKILL after graceMs if it has not. */
export function waitForExit(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const exited = waitForExit(child, graceMs);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  return exited;
}

/**
 * REDIS_CLUSTER_NODES set: the services talk to that cluster (REDIS_URL ignored) and nothing is started here;
 * one seed must answer PING (url is empty: there is no single Redis to name).
 */
async function clusterRedis(env: NodeJS.ProcessEnv): Promise<Dependency> {
  const seeds = env
    .REDIS_CLUSTER_NODES!.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const scheme = ['true', '1', 'yes'].includes(env.REDIS_CLUSTER_TLS ?? '') ? 'rediss' : 'redis';
  const auth = env.REDIS_PASSWORD ? `:${encodeURIComponent(env.REDIS_PASSWORD)}@` : '';
  for (const seed of seeds)
    if (await redisAnswers(`${scheme}://${auth}${seed}`))
      return {
        url: '',
        description: `Redis Cluster (REDIS_CLUSTER_NODES: ${seeds.join(', ')})`,
        stop: async () => undefined,
      };
  throw new Error(
    `No node of REDIS_CLUSTER_NODES answers (${seeds.join(', ')}): start the cluster or fix the seeds.`,
  );
}

/**
 * REDIS_CLUSTER_NODES set → that cluster (above). Else REDIS_URL set → use it. Else redis://127.0.0.1:6379 if
 * it answers. Else a redis-server from PATH on a free port, data in `<dataDir>/redis`. Else one line saying how
 * to get Redis.
 */
export async function ensureRedis(env: NodeJS.ProcessEnv, dataDir: string): Promise<Dependency> {
  const noop = async () => undefined;
  if (env.REDIS_CLUSTER_NODES) return clusterRedis(env);
  if (env.REDIS_URL) return { url: env.REDIS_URL, description: 'REDIS_URL', stop: noop };
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return { url: local, description: 'local Redis on 6379', stop: noop };
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (!bin) {
    throw new Error(
      'Redis is not answering on 127.0.0.1:6379 and no redis-server is on PATH: install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL.',
    );
  }
  const dir = path.join(dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort(6380);
  // Detached: a Ctrl-C in the terminal must not stop Redis before the services have drained.
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(url, 200)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(url))) throw new Error(`redis-server (${bin}) did not start on port ${port}`);
  return { url, description: `redis-server on ${port} (data in ${dir})`, stop: () => stopChild(child) };
}

/** DATABASE_URL set → use it. Else an embedded PostgreSQL with data in `<dataDir>/postgres`. */
export async function ensurePostgres(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  database = 'raptorflow',
): Promise<Dependency> {
  if (env.DATABASE_URL)
    return { url: env.DATABASE_URL, description: 'DATABASE_URL', stop: async () => undefined };
  const dir = path.join(dataDir, 'postgres');
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const port = await freePort(54329);
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'scripts', 'embedded-postgres.mjs'), dir, String(port), database],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      cwd: ROOT,
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`embedded PostgreSQL said: ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${stderr.trim()}`)));
  });
  return {
    url,
    description: `embedded PostgreSQL on ${port} (data in ${dir})`,
    stop: () => stopChild(child, 20_000),
  };
}
