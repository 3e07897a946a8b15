import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePort, redisAnswers } from '../../scripts/lib/local-stack';
import { waitForExit } from '../../scripts/lib/service-process';

/**
 * A redis-server of the test's own on a free port, which the test can stop and start again on the same port
 * (an outage). Persistence is AOF in a temporary directory (`--appendonly yes`, no RDB snapshots): a restart
 * keeps what Redis had acknowledged, like a production Redis would, so the outage under test is "Redis is
 * unreachable for a while" rather than "Redis lost its data".
 */
export class TestRedisServer {
  private child: ChildProcess | undefined;
  private readonly log: string[] = [];

  private constructor(
    private readonly bin: string,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<TestRedisServer> {
    const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
    if (!bin)
      throw new Error(
        'redis-server is not on PATH: this test runs a Redis of its own (apt-get install redis-server)',
      );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-redis-'));
    const server = new TestRedisServer(bin, await freePort(), dir);
    await server.up();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts redis-server (again) on the same port and data directory; resolves once it answers PING. */
  async up(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    const child = spawn(
      this.bin,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (l) => {
        if (this.log.length < 500) this.log.push(l);
      });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(
          `redis-server exited on start (port ${this.port}):\n${this.log.slice(-20).join('\n')}`,
        );
      if (await redisAnswers(this.url, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${this.port} within ${timeoutMs} ms`);
  }

  /** Stops it (SIGTERM: it flushes the AOF and exits; SIGKILL after 10 s). Resolves once the process is gone. */
  async down(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = waitForExit(child, 10_000);
    child.kill(signal);
    await exited;
  }

  /** Stops it and removes its data directory. */
  async destroy(): Promise<void> {
    await this.down();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
