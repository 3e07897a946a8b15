import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/**
 * The console (web/, Vite) as the build and start scripts see it: `npm run build:web` writes web/dist, which
 * the gateway serves at `/`. No imports beyond node: builtins, so the image's build stage can use it.
 */
const ROOT = path.resolve(__dirname, '..', '..');
export const WEB_DIR = path.join(ROOT, 'web');
export const CONSOLE_DIST = path.join(WEB_DIR, 'dist');

/** Vite's entry page: without it there is nothing to build (a checkout from before the console). */
export const consoleSourcesPresent = (): boolean => fs.existsSync(path.join(WEB_DIR, 'index.html'));
export const consoleBuilt = (): boolean => fs.existsSync(path.join(CONSOLE_DIST, 'index.html'));

export interface ConsoleBuild {
  ok: boolean;
  /** The exit code, or the signal that ended it, or the error that kept it from starting. */
  reason: string;
  /** The last lines of its output, for a failure message. */
  tail: string[];
  ms: number;
}

/**
 * `npm run build:web` through the npm that runs this script (npm_execpath, on this Node.js), else npm from
 * PATH. `onLine` gets each output line (the caller prefixes or prints it); `done` never rejects, and `stop`
 * ends a build that is no longer wanted (npm start stopping).
 */
export function buildConsole(onLine: (line: string) => void): {
  done: Promise<ConsoleBuild>;
  stop: () => void;
} {
  const started = performance.now();
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli && /\.[cm]?js$/.test(npmCli)
      ? [process.execPath, [npmCli, 'run', 'build:web']]
      : ['npm', ['run', 'build:web']];
  const tail: string[] = [];
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  for (const stream of [child.stdout, child.stderr])
    readline.createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      onLine(line);
    });
  const done = new Promise<ConsoleBuild>((resolve) => {
    const finish = (ok: boolean, reason: string) =>
      resolve({ ok, reason, tail, ms: Math.round(performance.now() - started) });
    child.on('error', (err) => finish(false, `could not run npm: ${err.message}`));
    // 'close', not 'exit': the output has been read to its end by then.
    child.on('close', (code, signal) =>
      finish(code === 0, signal ? `stopped by ${signal}` : `exit code ${code ?? 'unknown'}`),
    );
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
