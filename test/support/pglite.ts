import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, waitForExit } from '../../scripts/lib/local-stack';

export interface PgliteServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres: one in-memory database, pgvector available. */
  url: string;
  stop(): Promise<void>;
}

/**
 * An in-memory PGlite (WASM PostgreSQL with pgvector) served over the wire protocol by scripts/pglite-server.mjs,
 * in a child process: PGlite is ESM and WASM, which do not load inside jest. The test stack's PostgreSQL has no
 * pgvector; this is where the pgvector code path runs, through the same `pg`/knex code as the product.
 *
 * The child's stdin is a pipe it watches: if this process dies without calling stop(), the pipe closes and the
 * server exits on its own. PGlite is a single session behind a multiplexer: what that means for pools and
 * transactions is shown in test/integration/pglite-migrations.int.test.ts.
 */
export async function startPglite(
  opts: { maxConnections?: number; timeoutMs?: number } = {},
): Promise<PgliteServer> {
  const { maxConnections = 20, timeoutMs = 60_000 } = opts;
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'scripts', 'pglite-server.mjs'), String(maxConnections)],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const output = () => stderr.trim() || '(nothing on stderr)';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const stop = async () => {
    const exited = waitForExit(child, 10_000);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    child.stdin!.destroy();
  };

  const lines = readline.createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  let onExit = () => undefined as void;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`PGlite server did not start within ${timeoutMs} ms: ${output()}`)),
        timeoutMs,
      );
      onExit = () =>
        reject(
          new Error(
            `PGlite server exited (${child.exitCode ?? child.signalCode}) before it was ready: ${output()}`,
          ),
        );
      child.once('exit', onExit);
      child.once('error', reject);
      lines.once('line', (line) => {
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          reject(new Error(`PGlite server said: ${line}\n${output()}`));
        }
      });
    });
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
    child.off('exit', onExit);
    lines.close();
    // Keep draining stdout (readline paused it): a full pipe would block the server.
    child.stdout!.resume();
  }
}
