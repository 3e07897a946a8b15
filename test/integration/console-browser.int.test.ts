import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { getSettings } from '@raptorflow/core/config/settings';
import { mintDevToken } from '../../scripts/lib/dev-token';
import { ROOT } from '../../scripts/lib/local-stack';
import {
  ConsoleAssets,
  ensureConsoleBuilt,
  launchChromium,
  onPage,
  seriousA11yViolations,
  textOf,
  until,
} from '../support/browser';
import { newUser } from '../support/factories';
import { client } from '../support/http';
import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';

/**
 * The console in Chromium against the real stack: web/dist built by `npm run build:web` and served by a
 * gateway process, the seeder, agent-runner and cost-ledger as processes, PostgreSQL and Redis. ENVIRONMENT
 * is `development` (the console's development sign-in exists only there) and every model call is answered by
 * the offline stand-in, slowed a little so a run can be watched while it runs. The tests run in order, as one
 * person's session: sign in, create a workspace, run Cognition, read the cost, set the budget, visit every
 * screen; then a phone-sized screen and a member of the same workspace. Every screen visited is checked with
 * axe-core (no serious or critical violation). Nothing waits a fixed time: every wait is on something the
 * page, the network or the API shows. A failing step adds what was on screen (text and a screenshot under
 * .data/console-test-failures/) to its error.
 */
const { stack, services } = useServices();
const SCREENSHOTS = path.join(ROOT, 'docs', 'images');
const VIEWPORT = { width: 1280, height: 800 };
const LORD_NAMES = COUNCIL_OF_LORDS.map((l) => l.name).sort();
const TOPIC = 'oat milk for gen z';
const SIGN_IN = 'Continue as the development user';

let gateway: RunningService;
let browser: Browser;
let owner: BrowserContext;
/** The owner's tab: the development session lives in it (sessionStorage), so the session keeps to it. */
let page: Page;
/** web/dist as built for this run (see ConsoleAssets: someone may rebuild it while the tests run). */
let assets: ConsoleAssets;
/** Filled in as the session goes. */
const session = { workspaceId: '', ownerToken: '', runId: '' };
/** What axe-core found on each screen checked (each check asserts; the list is printed at the end). */
const a11y: Record<string, string[]> = {};

beforeAll(async () => {
  const began = Date.now();
  // Launched first: a missing Chromium fails here at once, saying how to install it.
  browser = await launchChromium();
  const env = serviceEnv({
    ENVIRONMENT: 'development',
    LLM_PROVIDER: 'local',
    // Each stand-in model call takes this long: a research run lasts a few seconds, long enough to watch.
    LOCAL_PROVIDER_LATENCY_MS: '750',
  });
  // The services start while the console builds (the gateway looks for web/dist at each request; no page
  // is loaded before both are done).
  const [built, running] = await Promise.all([
    ensureConsoleBuilt(),
    Promise.all(
      (['gateway', 'seeder', 'agent-runner', 'cost-ledger'] as const).map((n) => services.start(n, env)),
    ),
  ]);
  process.stdout.write(`[console tests] ${built}\n`);
  gateway = running[0]!;
  assets = await ConsoleAssets.take();
  owner = await newContext({ viewport: VIEWPORT });
  page = await owner.newPage();
  process.stdout.write(`[console tests] browser and stack ready in ${Date.now() - began} ms\n`);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (assets?.served.length) process.stdout.write(`[console tests] ${assets.notes().join('; ')}\n`);
  const checked = Object.keys(a11y);
  if (checked.length) process.stdout.write(`[console tests] axe-core checked: ${checked.join(', ')}\n`);
});

/** A test whose failure message shows what `tab()` had on screen. */
function step(name: string, tab: () => Page, fn: () => Promise<void>, timeoutMs = 60_000): void {
  it(name, () => onPage(tab, name, fn, () => assets?.notes() ?? []), timeoutMs);
}

/** A browser context whose pages stay whole if web/dist is rebuilt under them (ConsoleAssets). */
async function newContext(options: Parameters<Browser['newContext']>[0]): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await assets.attach(context);
  return context;
}

const url = (p: string) => `${gateway.url}${p}`;
const ownerApi = () => client(gateway.url, session.ownerToken);
const inWorkspace = () => ({ headers: { 'x-workspace-id': session.workspaceId } });

/** The screen's main heading (level 1), by its exact text. */
const heading = (p: Page, name: string) => p.getByRole('heading', { name, level: 1, exact: true });

async function expectAccessible(p: Page, screen: string): Promise<void> {
  const found = await seriousA11yViolations(p);
  a11y[screen] = found;
  if (found.length) throw new Error(`axe-core on the ${screen} screen:\n${found.join('\n')}`);
}

/** Nothing on the screen is still loading (the console marks loading states aria-busy). */
const settled = (p: Page, what: string) =>
  until(what, async () => (await p.locator('main [aria-busy="true"]').count()) === 0);

/** The top of the screen as people first see it (following a link may have scrolled the page). */
async function screenshot(p: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await p.evaluate(() => (globalThis as any).scrollTo(0, 0));
  await p.screenshot({ path: path.join(SCREENSHOTS, name), animations: 'disabled', caret: 'hide' });
}

/** Follows the main navigation's link to a screen and waits for its heading. */
async function openFromNav(p: Page, link: string, title: string): Promise<void> {
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await heading(p, title).waitFor();
}

/** Dollar amounts as the console writes them ($0.000123, $25.00, $1,234.50). */
const dollars = (text: string) =>
  [...text.matchAll(/\$\s?(\d[\d,]*(?:\.\d+)?)/g)].map((m) => Number(m[1]!.replace(/,/g, '')));

step(
  'signs in as the development user and creates a workspace; the dashboard shows the seven Lords',
  () => page,
  async () => {
    await page.goto(url('/'));
    await page.getByRole('button', { name: SIGN_IN }).click();
    await page.getByRole('textbox', { name: 'Workspace name' }).fill('Acme Oat Co');
    const [created] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/workspaces',
      ),
      page.getByRole('button', { name: 'Create workspace' }).click(),
    ]);
    expect(created.status()).toBe(201);
    session.workspaceId = (await created.json()).id;
    // The API checks below act as that owner: a token minted for the user the workspace belongs to.
    const ownerRow = await stack.db('workspace_members').where({ workspace_id: session.workspaceId }).first();
    expect(ownerRow.role).toBe('owner');
    const s = getSettings();
    session.ownerToken = await mintDevToken({
      userId: ownerRow.user_id,
      secret: s.supabaseJwtSecret,
      audience: s.jwtAudience,
    });

    await heading(page, 'Council of Lords').waitFor();
    // The seeder process seeds the Lords after the workspace exists; the dashboard shows them once seated.
    const articles = page.getByRole('main').getByRole('article');
    const names = await until(
      'seven Lords on the dashboard',
      async () => {
        const all = await articles.all();
        if (all.length !== 7) return undefined;
        return (await Promise.all(all.map((a) => textOf(a.getByRole('heading'))))).sort();
      },
      20_000,
    );
    expect(names).toEqual(LORD_NAMES);
    // Each article is named by its heading, the Lord's name.
    for (const name of LORD_NAMES) await page.getByRole('article', { name, exact: true }).waitFor();

    // No live model is configured: the console says its answers come from the offline stand-in.
    await page.getByRole('region', { name: 'Offline models' }).waitFor();
    await settled(page, 'the dashboard loaded');
    await expectAccessible(page, 'dashboard');
    await screenshot(page, 'console-dashboard.png');
  },
);

step(
  'starts a research run with Cognition and shows it completing live, its steps listed as they finish',
  () => page,
  async () => {
    await page.getByRole('link', { name: 'Start a run with Cognition' }).click();
    const topic = page.getByRole('textbox', { name: 'Topic' });
    await topic.waitFor();
    await expectAccessible(page, 'start run');
    await topic.fill(TOPIC);
    const [posted] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/agent-runs',
      ),
      page.getByRole('button', { name: 'Start run' }).click(),
    ]);
    expect(posted.status()).toBe(202);
    session.runId = (await posted.json()).id;

    const status = page.getByRole('main').getByRole('status');
    const steps = page.getByRole('list', { name: 'Steps' }).getByRole('listitem');
    // While it runs: steps listed and the status not final. The steps are counted first and the status read
    // after, so a status still short of completed proves the steps were on screen before the run ended.
    const during = await until(
      'a step listed while the run is still running',
      async () => {
        const count = await steps.count();
        const now = await textOf(status);
        return count >= 1 && /queued|running/i.test(now) ? { count, now } : undefined;
      },
      30_000,
    );
    await until('the run page says completed', async () => /completed/i.test(await textOf(status)), 60_000);

    const run = await ownerApi().get(`/v1/agent-runs/${session.runId}`, inWorkspace());
    expect(run.body.status).toBe('completed');
    const all = await until('every step of the run listed', async () => {
      const n = await steps.count();
      return n === run.body.steps.length ? n : undefined;
    });
    // The list filled while the run ran: more steps at the end than when the first was seen.
    expect(all).toBeGreaterThan(during.count);
    const stepsText = await textOf(page.getByRole('list', { name: 'Steps' }));
    for (const s of run.body.steps as Array<{ key: string }>) expect(stepsText).toContain(s.key);
    await settled(page, 'the run page loaded');
    await expectAccessible(page, 'run');
    await screenshot(page, 'console-run.png');
  },
  120_000,
);

step(
  "shows the run's cost on the costs page",
  () => page,
  async () => {
    const owner = ownerApi();
    const run = await owner.get(`/v1/agent-runs/${session.runId}`, inWorkspace());
    const runCost = Number(run.body.cost_usd);
    expect(runCost).toBeGreaterThan(0);
    // The cost-ledger rolls the run's cost rows up; the page reads that summary. The only run is this one.
    await until(
      "the run's cost in the month's summary",
      async () => {
        const res = await owner.get('/v1/costs/summary', inWorkspace());
        return Math.abs(Number(res.body.spent_usd) - runCost) < 1e-9 ? res.body : undefined;
      },
      20_000,
    );
    await openFromNav(page, 'Costs', 'Costs');
    const label = page.getByText('Spent this month', { exact: true });
    await label.waitFor();
    // The figure beside the label, as the console writes it (six decimals below a cent).
    const shown = await until(
      'the spend beside "Spent this month"',
      async () => dollars(await textOf(label.locator('xpath=..')))[0],
    );
    expect(Math.abs(shown - runCost)).toBeLessThanOrEqual(runCost < 0.01 ? 1e-6 : 0.005);
    await settled(page, 'the costs page loaded');
    await expectAccessible(page, 'costs');
    await screenshot(page, 'console-costs.png');
  },
);

step(
  'lets the owner set the monthly budget',
  () => page,
  async () => {
    await openFromNav(page, 'Budget', 'Budget');
    const field = page.getByRole('textbox', { name: 'Monthly budget (USD)' });
    await field.waitFor();
    await expectAccessible(page, 'budget');
    await field.fill('25');
    const [saved] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'PUT' && new URL(r.url()).pathname.endsWith('/budget'),
      ),
      page.getByRole('button', { name: 'Save budget' }).click(),
    ]);
    expect(saved.status()).toBe(200);
    const budget = await ownerApi().get(`/v1/workspaces/${session.workspaceId}/budget`);
    expect(Number(budget.body.monthly_budget_usd)).toBe(25);
    expect(budget.body.source).toBe('workspace');
    // The page shows the new limit once the save has come back.
    await page.getByText('$25.00').first().waitFor();
  },
);

step(
  'has no serious or critical accessibility violation on the runs, members, guardrails, audit log and memory screens',
  () => page,
  async () => {
    const screens: Array<[link: string, title: string]> = [
      ['Runs', 'Runs'],
      ['Members', 'Members'],
      ['Guardrails', 'Guardrails'],
      ['Audit log', 'Audit log'],
      ['Memory', 'Memory'],
    ];
    const problems: string[] = [];
    for (const [link, title] of screens) {
      await openFromNav(page, link, title);
      await settled(page, `the ${title} screen loaded`);
      const found = await seriousA11yViolations(page);
      a11y[title.toLowerCase()] = found;
      if (found.length) problems.push(`${title}:\n${found.join('\n')}`);
    }
    expect(problems).toEqual([]);
  },
  90_000,
);

let phone: Page;
step(
  'is usable 390 px wide: no horizontal scroll, the navigation one tap away',
  () => phone ?? page,
  async () => {
    // A phone: 390 CSS px wide, its meta viewport honoured. The development session lives in one tab
    // (sessionStorage), so this one signs in again; the last workspace used (localStorage) is the owner's.
    const narrow = await newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      storageState: await owner.storageState(),
    });
    phone = await narrow.newPage();
    await phone.goto(url('/'));
    await phone.getByRole('button', { name: SIGN_IN }).click();
    await heading(phone, 'Council of Lords').waitFor();
    await phone.getByRole('main').getByRole('article').first().waitFor();
    await settled(phone, 'the dashboard loaded');
    const widths = await phone.evaluate(() => {
      const root = (globalThis as any).document.documentElement;
      return { scroll: root.scrollWidth as number, client: root.clientWidth as number };
    });
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    // The navigation is on screen, or behind the menu button.
    const costs = phone
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Costs', exact: true });
    if (!(await costs.isVisible()))
      await phone.getByRole('button', { name: 'Menu', expanded: false }).click();
    await costs.tap();
    await heading(phone, 'Costs').waitFor();
    await narrow.close();
  },
);

let memberPage: Page;
step(
  'shows a member of the same workspace no budget form; the API refuses their budget change (403)',
  () => memberPage ?? page,
  async () => {
    const user = await newUser();
    const added = await ownerApi().post(`/v1/workspaces/${session.workspaceId}/members`, {
      user_id: user.id,
      role: 'member',
    });
    expect(added.status).toBe(201);

    const member = await newContext({ viewport: VIEWPORT });
    // The development sign-in is always the one development user; in this context it answers with the
    // member's token instead, so the console is signed in as the member in every respect.
    await member.route(
      (u) => u.pathname === '/v1/dev/session',
      (route) =>
        route.fulfill({
          status: 200,
          json: {
            token: user.token,
            user_id: user.id,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          },
        }),
    );
    memberPage = await member.newPage();
    await memberPage.goto(url('/'));
    await memberPage.getByRole('button', { name: SIGN_IN }).click();
    await heading(memberPage, 'Council of Lords').waitFor();
    await openFromNav(memberPage, 'Budget', 'Budget');
    await memberPage.getByText('Only owners can change the budget').waitFor();
    expect(await memberPage.getByRole('textbox', { name: 'Monthly budget (USD)' }).count()).toBe(0);
    expect(await memberPage.getByRole('button', { name: 'Save budget' }).count()).toBe(0);
    await expectAccessible(memberPage, 'budget (member)');

    const refused = await client(gateway.url, user.token).call(
      'PUT',
      `/v1/workspaces/${session.workspaceId}/budget`,
      {
        body: { monthly_budget_usd: 1000 },
      },
    );
    expect(refused.status).toBe(403);
    const budget = await ownerApi().get(`/v1/workspaces/${session.workspaceId}/budget`);
    expect(Number(budget.body.monthly_budget_usd)).toBe(25);
    await member.close();
  },
);
