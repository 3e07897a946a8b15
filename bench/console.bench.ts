// bench/console: the console's initial JavaScript (gzip, from web/dist) against its 250 kB budget, and its
// first screen in Chromium against the local stack — navigation start → the dashboard's "Council of Lords"
// heading visible and a navigation link usable — against its 1 s budget, beside a static page of the same
// size carrying the same heading and navigation, loaded the same way in the same run.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { freePort } from '../scripts/lib/local-stack';
import { spawnService, waitForExit, waitForHttp } from '../scripts/lib/service-process';
import { WEB_DIST, ensureConsoleBuilt, launchChromium } from '../test/support/browser';
import { FIRST_SCREEN_PROBE, baselinePage, initialAssets, median } from './console-measure';

const JS_BUDGET_BYTES = 250_000;
const INTERACTIVE_BUDGET_MS = 1_000;
const VIEWPORT = { width: 1280, height: 800 };
/** Loads measured per page and cache mode, after WARMUP unmeasured ones. */
const LOADS = 9;
const WARMUP = 2;

type Service = ReturnType<typeof spawnService>;

/** The page's globals the bench reads (this project compiles without the DOM's types). */
type InPage = {
  document: { querySelectorAll: (selector: string) => { length: number } };
  __rfFirstScreen?: number;
  __rfLords?: number;
};

async function startService(
  name: 'gateway' | 'seeder',
  portVariable: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: Service; url: string }> {
  const port = await freePort();
  const child = spawnService(name, { ...env, [portVariable]: String(port) }, 'capture');
  const url = `http://127.0.0.1:${port}`;
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}):\n${child.output.slice(-40).join('\n')}`)),
    ),
  );
  died.catch(() => undefined);
  await Promise.race([waitForHttp(`${url}/health/live`, 60_000), died]);
  return { child, url };
}

/** A static page served by a bare node:http server: no framework, no API call, nothing to run. */
async function serveStatic(html: string): Promise<{ url: string; close: () => Promise<void> }> {
  const body = Buffer.from(html);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A tab signed in through the console's development sign-in (its session lives in this tab's
 * sessionStorage), with a workspace created through the console and its seven Lords seeded; the probe runs in
 * every document it loads. Returns the tab and the dashboard's URL.
 */
async function signedInTab(browser: Browser, base: string): Promise<{ page: Page; dashboard: string }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript(FIRST_SCREEN_PROBE);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Continue as the development user' }).click();
  await page.getByRole('textbox', { name: 'Workspace name' }).fill('Bench Co');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByRole('heading', { name: 'Council of Lords', level: 1 }).waitFor({ timeout: 30_000 });
  // The Lords are seeded by the seeder process: the steady dashboard lists all seven.
  await page.waitForFunction(
    () => (globalThis as unknown as InPage).document.querySelectorAll('main article').length >= 7,
    undefined,
    {
      timeout: 30_000,
    },
  );
  return { page, dashboard: page.url() };
}

/** A tab of its own for the baseline, measured the same way. */
async function plainTab(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript(FIRST_SCREEN_PROBE);
  return context.newPage();
}

const devtools = new WeakMap<Page, CDPSession>();

/**
 * Turns the tab's HTTP cache off (cold loads: every file fetched and compiled again) or back on, through one
 * DevTools session per tab (kept open: the override lasts as long as the session).
 */
async function setCache(page: Page, enabled: boolean): Promise<void> {
  let cdp = devtools.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    devtools.set(page, cdp);
  }
  if (!enabled) await cdp.send('Network.clearBrowserCache');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !enabled });
}

/**
 * Milliseconds from navigation start until the probe saw the heading and a usable navigation link, and (when
 * `lords`) until the seven Lords were listed.
 */
async function firstScreen(
  page: Page,
  url: string,
  lords: boolean,
): Promise<{ screen: number; lords?: number }> {
  await page.goto(url, { waitUntil: 'commit' });
  // Functions (serialised into the page), not strings: the console's CSP has no 'unsafe-eval'.
  const screen = await page.waitForFunction(
    () => (globalThis as unknown as InPage).__rfFirstScreen,
    undefined,
    {
      timeout: 30_000,
    },
  );
  if (!lords) return { screen: (await screen.jsonValue()) as number };
  const listed = await page.waitForFunction(() => (globalThis as unknown as InPage).__rfLords, undefined, {
    timeout: 30_000,
  });
  return { screen: (await screen.jsonValue()) as number, lords: (await listed.jsonValue()) as number };
}

interface Series {
  screen: number[];
  lords: number[];
  baseline: number[];
}

/** LOADS measured loads of each page after WARMUP unmeasured ones, interleaved (a slow moment hits both). */
async function series(app: { page: Page; url: string }, base: { page: Page; url: string }): Promise<Series> {
  for (let i = 0; i < WARMUP; i++) {
    await firstScreen(app.page, app.url, true);
    await firstScreen(base.page, base.url, false);
  }
  const out: Series = { screen: [], lords: [], baseline: [] };
  for (let i = 0; i < LOADS; i++) {
    const a = await firstScreen(app.page, app.url, true);
    out.screen.push(a.screen);
    out.lords.push(a.lords!);
    out.baseline.push((await firstScreen(base.page, base.url, false)).screen);
  }
  return out;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

export async function runConsoleBench(): Promise<string[]> {
  const lines = ['bench/console'];
  // Built for this run, in production mode, from the sources as they are (a stale or development build in
  // web/dist would measure something else).
  const built = await ensureConsoleBuilt({ force: true });
  lines.push(`  web/dist: ${built}`);

  // 1. Weight: what index.html makes the browser fetch before the first screen can run.
  const assets = initialAssets(WEB_DIST);
  const sized = assets.map((a) => {
    const raw = fs.readFileSync(path.join(WEB_DIST, a));
    return { asset: a, raw: raw.length, gzip: zlib.gzipSync(raw).length };
  });
  const gzipTotal = sized.reduce((n, s) => n + s.gzip, 0);
  const rawTotal = sized.reduce((n, s) => n + s.raw, 0);
  lines.push(
    `  initial JS (index.html's module script + modulepreloads, ${sized.length} files): ${kB(gzipTotal)} gzip ` +
      `(${kB(rawTotal)} raw) — budget ${kB(JS_BUDGET_BYTES)}: ${verdict(gzipTotal <= JS_BUDGET_BYTES)}`,
    ...sized.map((s) => `    ${s.asset}: ${kB(s.gzip)} gzip, ${kB(s.raw)} raw`),
  );

  // 2. First screen, on the local stack: the gateway serving web/dist and the seeder seeding the Lords.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENVIRONMENT: 'development',
    LLM_PROVIDER: 'local',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  };
  const services: Service[] = [];
  let browser: Browser | undefined;
  let baseline: Awaited<ReturnType<typeof serveStatic>> | undefined;
  try {
    const [gateway, seeder] = await Promise.all([
      startService('gateway', 'PORT', env),
      startService('seeder', 'SEEDER_PORT', env),
    ]);
    services.push(gateway.child, seeder.child);
    browser = await launchChromium();
    const app = await signedInTab(browser, gateway.url);
    const indexBytes = fs.statSync(path.join(WEB_DIST, 'index.html')).size;
    baseline = await serveStatic(baselinePage(indexBytes + rawTotal));
    const base = { page: await plainTab(browser), url: baseline.url };
    const consoleTab = { page: app.page, url: app.dashboard };

    await setCache(consoleTab.page, false);
    await setCache(base.page, false);
    const cold = await series(consoleTab, base);
    await setCache(consoleTab.page, true);
    await setCache(base.page, true);
    const warm = await series(consoleTab, base);

    const range = (v: number[]) => `${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}`;
    const figure = (v: number[]) => `${median(v).toFixed(0)} ms (${range(v)})`;
    const c = median(cold.screen);
    lines.push(
      `  first screen interactive: navigation start → "Council of Lords" visible and a nav link usable; ` +
        `Chromium ${browser.version()}, ${VIEWPORT.width}×${VIEWPORT.height}, signed in, workspace with 7 Lords, ` +
        `median (min–max) of ${LOADS} loads after ${WARMUP}`,
      `    cold (HTTP cache off): console ${figure(cold.screen)} — budget ${INTERACTIVE_BUDGET_MS} ms: ` +
        `${verdict(c <= INTERACTIVE_BUDGET_MS)}; baseline ${figure(cold.baseline)}; console − baseline ` +
        `+${(c - median(cold.baseline)).toFixed(0)} ms; seven Lords listed at ${figure(cold.lords)}`,
      `    warm (HTTP cache on):  console ${figure(warm.screen)}; baseline ${figure(warm.baseline)}; ` +
        `seven Lords listed at ${figure(warm.lords)}`,
      `    baseline: a static page of the same ${kB(indexBytes + rawTotal)} (index.html + initial JS, as inert ` +
        `text) with the same heading and nav, from a bare node:http server`,
    );
    return lines;
  } finally {
    await browser?.close();
    await baseline?.close();
    for (const s of services) s.kill('SIGTERM');
    await Promise.all(services.map((s) => waitForExit(s, 10_000)));
  }
}
