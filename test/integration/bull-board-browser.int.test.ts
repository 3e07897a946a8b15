import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ConflictError } from '@raptorflow/core/errors/app-error';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { createWorker } from '@raptorflow/events/worker/worker-runtime';
import { ROOT } from '../../scripts/lib/local-stack';
import { launchChromium, onPage, textOf, until } from '../support/browser';
import { ServiceGroup, serviceEnv } from '../support/processes';
import type { RunningService } from '../support/processes';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';

/**
 * Bull Board in Chromium against a gateway process (its own queue prefix, real Redis and PostgreSQL): basic
 * auth through the browser's own challenge handling, every catalog queue in the sidebar, a failed job of the
 * `system` queue opened from its Failed tab with its error, retried with the job's Retry button, and then
 * completed — in BullMQ and in the board's Completed tab. The job is a genuine one: published through the
 * bus and failed by a worker built with the services' worker runtime, whose handler refuses with a domain
 * error (final at once, like every domain error) until the test "fixes" it. Nothing waits a fixed time.
 */
const stack = openStack();
const services = new ServiceGroup(stack.db);
const USER = 'ops';
const PASSWORD = `board-${randomBytes(6).toString('hex')}`;
const VIEWPORT = { width: 1280, height: 800 };
const SCREENSHOT = path.join(ROOT, 'docs', 'images', 'bull-board-failed-job.png');
/** Recognisable in the board: the worker runtime makes it `conflict: <this>` (a domain error). */
const REFUSAL = 'the smoke handler is switched off';

let gateway: RunningService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let worker: Worker;
/** The failing job: its id is the event id. */
let jobId = '';
const handler = { fixed: false, calls: 0 };

beforeAll(async () => {
  // Launched first: a missing Chromium fails here at once, saying how to install it.
  browser = await launchChromium();
  gateway = await services.start(
    'gateway',
    serviceEnv({ BULL_BOARD_USERNAME: USER, BULL_BOARD_PASSWORD: PASSWORD }),
  );
  worker = createWorker(
    'system',
    {
      'test.event': async () => {
        handler.calls += 1;
        if (!handler.fixed) throw new ConflictError(REFUSAL);
        return { fixed: true };
      },
    },
    workerOptions(stack),
  );
  jobId = (await stack.bus.publish('test.event', { message: 'retried from Bull Board' })).event_id;
  await until('the job in the failed set', async () => (await queue().getJobState(jobId)) === 'failed');
  context = await boardContext({ username: USER, password: PASSWORD });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await services.stopAll();
  await stack.close(worker ? [worker] : []);
}, 60_000);

const queue = () => stack.bus.queue('system');
const url = (p: string) => `${gateway.url}/admin/queues${p}`;

/**
 * A context that answers the board's basic challenge with these credentials (for the gateway's origin only).
 * The board's Google Fonts are refused at once: this network has no way out, and the page falls back to
 * system fonts rather than wait for them.
 */
async function boardContext(credentials: { username: string; password: string }): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: VIEWPORT,
    httpCredentials: { ...credentials, origin: gateway.url },
  });
  await ctx.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) => route.abort());
  return ctx;
}

/** A test whose failure message shows what the page had on screen (text and a screenshot). */
function step(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  it(name, () => onPage(() => page, name, fn), timeoutMs);
}

const sidebarQueues = (p: Page) => p.getByRole('complementary').getByRole('navigation').getByRole('link');
/** The queue page's status tabs (LATEST, ACTIVE, …, FAILED 1, …) are links; a count follows the name. */
const statusTab = (p: Page, status: string) =>
  p.getByRole('main').getByRole('link', { name: new RegExp(`^${status}( \\d+)?$`) });
const jobLink = (p: Page) => p.getByRole('main').getByRole('link', { name: jobId, exact: true });

step('a wrong password gets 401 and the basic challenge, and no board', async () => {
  const wrong = await boardContext({ username: USER, password: `${PASSWORD}-wrong` });
  try {
    const tab = await wrong.newPage();
    const res = await tab.goto(url(''));
    expect(res?.status()).toBe(401);
    expect(res?.headers()['www-authenticate']).toBe('Basic realm="RaptorFlow Bull Board", charset="UTF-8"');
    expect(await textOf(tab.locator('body'))).toContain('unauthenticated');
    expect(await tab.getByRole('navigation').count()).toBe(0);
  } finally {
    await wrong.close();
  }
});

step('logs in with basic auth and lists every catalog queue', async () => {
  const res = await page.goto(url(''));
  expect(res?.status()).toBe(200);
  await page.getByRole('link', { name: 'RaptorFlow queues' }).first().waitFor();
  const names = await until('every queue in the sidebar', async () => {
    const shown = (await sidebarQueues(page).allInnerTexts()).map((t) => t.trim());
    return shown.length === QUEUE_NAMES.length && shown;
  });
  expect([...names].sort()).toEqual([...QUEUE_NAMES].sort());
  expect(QUEUE_NAMES).toEqual(expect.arrayContaining(['workspace', 'agent', 'cost', 'system']));
});

step("opens the failed job from the queue's Failed tab and shows its error", async () => {
  await sidebarQueues(page).getByText('system', { exact: true }).click();
  await statusTab(page, 'FAILED').click();
  await page.waitForURL(/\/queue\/system\?status=failed$/);
  await expect(textOf(statusTab(page, 'FAILED'))).resolves.toBe('FAILED 1');
  await jobLink(page).click();
  await page.waitForURL(new RegExp(`/queue/system/${jobId}\\?status=failed$`));
  await page.getByRole('heading', { name: 'test.event', exact: true }).waitFor();
  // A failed job opens on its Error tab: the stack the worker's error left in BullMQ.
  const error = page.getByRole('tabpanel', { name: 'Error' });
  await error.getByText(`conflict: ${REFUSAL}`).waitFor();
  expect(await textOf(error)).toMatch(/^UnrecoverableError: conflict: /);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, animations: 'disabled', caret: 'hide' });
});

step(
  'retries the job with its Retry button; the job then completes, in BullMQ and on the board',
  async () => {
    // The operator fixes the cause first: nothing retries a failed job by itself, so it stays failed.
    handler.fixed = true;
    expect(await queue().getJobState(jobId)).toBe('failed');
    expect(handler.calls).toBe(1);

    // The job's actions are icon buttons; the Retry one is the one whose tooltip says so.
    const retry = page
      .getByRole('main')
      .getByRole('listitem')
      .filter({ has: page.locator('svg.lucide-refresh-cw') })
      .getByRole('button');
    await retry.hover();
    await page.getByText('Retry', { exact: true }).waitFor();
    await retry.click();
    const confirm = page.getByRole('alertdialog', { name: 'Are you sure?' });
    await confirm.getByText('Are you sure that you want to retry this job?').waitFor();
    await confirm.getByRole('button', { name: 'Confirm', exact: true }).click();

    await until('the retried job completed', async () => (await queue().getJobState(jobId)) === 'completed');
    const job = (await queue().getJob(jobId))!;
    expect(job.returnvalue).toEqual({ fixed: true });
    expect(handler.calls).toBe(2);
    expect(await queue().getJobCounts('failed', 'completed')).toEqual({ failed: 0, completed: 1 });

    await page.getByRole('main').getByRole('link', { name: 'system', exact: true }).click();
    await statusTab(page, 'COMPLETED').click();
    await page.waitForURL(/\/queue\/system\?status=completed$/);
    await jobLink(page).waitFor();
    await statusTab(page, 'FAILED').click();
    await page.getByText('No failed jobs in this queue.').waitFor();
  },
);
