import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ROOT } from '../../scripts/lib/local-stack';

/**
 * The console in a real browser: Debian's Chromium found on PATH (no downloaded browser), driven by
 * playwright-core; the console built once from web/ when its sources are newer than web/dist; axe-core
 * injected into the page for accessibility checks.
 */

export const WEB_DIR = path.join(ROOT, 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');

/**
 * Flags for this closed network: without the background-networking ones Chromium's own connections
 * (component updates, sync, field trials) are refused and slow every start. Playwright gives each launch a
 * fresh temporary --user-data-dir of its own and removes it on close.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The `chromium` on PATH (`which chromium`), or an error that says how to get it: never a silent skip. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'chromium');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not in this directory */
    }
  }
  throw new Error(
    "Chromium is not on PATH: the console browser tests drive Debian's `chromium` (`apt-get install chromium`; " +
      '.ci/run installs it when missing). `which chromium` must print its path.',
  );
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Newest modification time under dir (skipping node_modules and dist), 0 when empty. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Why web/dist must be rebuilt, or undefined when it is newer than every source file of web/. */
export function consoleBuildReason(): string | undefined {
  const index = path.join(WEB_DIST, 'index.html');
  if (!fs.existsSync(index)) return 'web/dist/index.html is missing';
  const built = fs.statSync(index).mtimeMs;
  const sources = newestMtime(WEB_DIR);
  return sources > built ? 'web/ has changed since web/dist was built' : undefined;
}

const LOCK = path.join(ROOT, '.data', 'web-build.lock');
const LOCK_STALE_MS = 5 * 60_000;

async function withBuildLock<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed run is taken over once it is older than any build takes.
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`${LOCK} held for over ${timeoutMs} ms`, { cause: err });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * npm through the npm that runs us (npm_execpath, on this Node.js), else npm from PATH. NODE_ENV is
 * `production` for the child: jest sets it to `test`, and Vite would then bundle React's development build
 * (twice the size, dev-only checks) instead of the one the gateway serves for real.
 */
function npm(args: string[]): Promise<{ code: number; output: string }> {
  const npmCli = process.env.npm_execpath;
  const [command, argv] =
    npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, ...args]] : ['npm', args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * Builds the console (`npm run build:web`) unless web/dist is newer than web/'s sources (or always, with
 * `force`); one build at a time across processes (a lock under .data/), so parallel test files and a bench
 * share it. Returns what it did.
 */
export async function ensureConsoleBuilt(
  opts: { force?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 180_000;
  if (!opts.force && !consoleBuildReason()) return 'web/dist is up to date';
  const requested = Date.now();
  return withBuildLock(async () => {
    // Another process may have built it while this one waited for the lock.
    const builtSince =
      (fs.statSync(path.join(WEB_DIST, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0) > requested;
    const reason = opts.force
      ? builtSince
        ? undefined
        : 'a fresh build was asked for'
      : consoleBuildReason();
    if (!reason) return 'web/dist was built by another process';
    const started = Date.now();
    const { code, output } = await npm(['run', 'build:web']);
    if (code !== 0)
      throw new Error(
        `npm run build:web failed (exit ${code}):\n${output.split('\n').slice(-40).join('\n')}`,
      );
    if (!fs.existsSync(path.join(WEB_DIST, 'index.html')))
      throw new Error('npm run build:web succeeded but wrote no web/dist/index.html');
    return `built web/dist in ${Date.now() - started} ms (${reason})`;
  }, timeoutMs);
}

// ---------------------------------------------------------------------------------------------------------
// Accessibility

const AXE_SOURCE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; html: string; failureSummary?: string }>;
}

/**
 * Runs axe-core over the page as it is now and returns its serious and critical violations, formatted for a
 * failure message. axe is evaluated through the DevTools protocol, so the page's CSP does not block it.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  axeSource ??= fs.readFileSync(AXE_SOURCE, 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const g = globalThis as any;
    const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return result.violations as AxeViolation[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n` +
        v.nodes
          .slice(0, 5)
          .map((n) => `    ${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`)
          .join('\n'),
    );
}

// ---------------------------------------------------------------------------------------------------------
// Waiting on observable state

/** Polls `check` (a read of the page or the API) until it returns a truthy value; the last error explains. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not seen within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Visible text of the locator, whitespace collapsed ('' when it is not there). */
export async function textOf(locator: Locator): Promise<string> {
  if ((await locator.count()) === 0) return '';
  return (await locator.first().innerText()).replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------
// Diagnostics

export const FAILURE_DIR = path.join(ROOT, '.data', 'console-test-failures');

/**
 * Runs one step of a browser test; when it fails, the page's URL, its visible text and a screenshot
 * (under .data/console-test-failures/) are added to the error, so a failure on CI says what was on screen,
 * and whatever `notes` has to say.
 */
export async function onPage<T>(
  tab: () => Page,
  step: string,
  work: () => Promise<T>,
  notes: () => string[] = () => [],
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    let context = '';
    try {
      const page = tab();
      fs.mkdirSync(FAILURE_DIR, { recursive: true });
      const file = path.join(FAILURE_DIR, `${step.replace(/[^\w-]+/g, '-').slice(0, 60)}-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
      const text = (await page.locator('body').innerText({ timeout: 5_000 })).replace(/\n{2,}/g, '\n');
      context = `\n--- on screen at ${page.url()} (screenshot ${path.relative(ROOT, file)}):\n${text.slice(0, 2_000)}`;
    } catch {
      /* the page may be gone; the original error is what matters */
    }
    context += notes()
      .map((n) => `\n--- ${n}`)
      .join('');
    if (err instanceof Error) {
      // jest prints the stack, which holds the message as it was when the error was made.
      const before = err.message;
      err.message += context;
      if (err.stack?.includes(before)) err.stack = err.stack.replace(before, err.message);
      else err.stack = `${err.stack ?? ''}${context}`;
      throw err;
    }
    throw new Error(`${String(err)}${context}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------------
// web/dist rebuilt under a running test

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/**
 * The console's hashed assets as they were when the test started. Anyone may rebuild web/dist while a test
 * runs (`npm run build:web`, `npm run build`, `npm start` in the same checkout): Vite empties it, so a page
 * already loaded asks for chunks that are gone and the console shows "This page failed to load" — a
 * collision in the checkout, not a fault of the console. `attach` keeps a page whole: an asset the gateway
 * answers 404 is served from this copy instead (and listed in `served`); everything else is the gateway's
 * answer, untouched. CI builds once before the tests, so there it never happens.
 */
export class ConsoleAssets {
  private readonly files = new Map<string, Buffer>();
  readonly served: string[] = [];
  private readonly indexMtime: number;

  private constructor(dist: string) {
    const dir = path.join(dist, 'assets');
    for (const name of fs.readdirSync(dir)) this.files.set(name, fs.readFileSync(path.join(dir, name)));
    this.indexMtime = fs.statSync(path.join(dist, 'index.html')).mtimeMs;
    const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    for (const m of html.matchAll(/\/assets\/([^"'?#\s]+)/g))
      if (!this.files.has(m[1]!)) throw new Error(`web/dist is being rebuilt (${m[1]} is missing)`);
  }

  /** A consistent copy of web/dist (retried while someone else's build is writing it). */
  static async take(dist = WEB_DIST): Promise<ConsoleAssets> {
    return until('a complete web/dist to copy', async () => new ConsoleAssets(dist), 60_000);
  }

  async attach(context: BrowserContext): Promise<void> {
    await context.route(
      (u) => u.pathname.startsWith('/assets/'),
      async (route) => {
        try {
          const response = await route.fetch();
          const name = path.posix.basename(new URL(route.request().url()).pathname);
          const kept = this.files.get(name);
          if (response.status() !== 404 || !kept) return await route.fulfill({ response });
          this.served.push(name);
          return await route.fulfill({
            status: 200,
            body: kept,
            contentType: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
          });
        } catch {
          // The page gave the request up (it navigated, or its context closed) while the asset was being
          // fetched: its response is disposed and nobody waits for it. A request the page still needs and
          // did not get fails the test through what the page then fails to show.
          await route.abort().catch(() => undefined);
        }
      },
    );
  }

  /** What to say in a failure message when web/dist changed under the test. */
  notes(): string[] {
    const now = fs.statSync(path.join(WEB_DIST, 'index.html'), { throwIfNoEntry: false })?.mtimeMs;
    const out: string[] = [];
    if (now !== this.indexMtime)
      out.push('web/dist was rebuilt by another process while this test ran (index.html changed)');
    if (this.served.length)
      out.push(
        `assets gone from web/dist, served from the copy taken at the start: ${this.served.join(', ')}`,
      );
    return out;
  }
}
