import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { newUser } from '../support/factories';
import { expectError, startGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The console's files at `/`: web/dist, here a temporary directory with a fake build (an index.html and
 * hashed assets), served beside an API that stays as it is.
 */
const stack = openStack();
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  await stack.close();
});

const development = (extra: Record<string, string> = {}): Settings =>
  parseSettings({ ...process.env, ENVIRONMENT: 'development', ...extra });

async function gateway(settings: Settings, consoleDir?: string): Promise<string> {
  const server = await startGateway(stack, settings, consoleDir ? { consoleDir } : {});
  closers.push(server.close);
  return server.url;
}

describe('the console at /', () => {
  let dist: string;
  const INDEX =
    '<!doctype html><html><head><script type="module" src="/assets/app-3f9a1c.js"></script></head><body><div id="root"></div></body></html>';
  beforeAll(() => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-console-'));
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'index.html'), INDEX);
    fs.writeFileSync(path.join(dist, 'assets', 'app-3f9a1c.js'), 'console.log("console");');
    fs.writeFileSync(path.join(dist, 'assets', 'app-3f9a1c.css'), 'body{margin:0}');
    fs.writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  });
  afterAll(() => fs.rmSync(dist, { recursive: true, force: true }));

  const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  const get = (url: string, p: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${url}${p}`, { method, headers });

  it('serves index.html uncached with the page CSP, and hashed assets cached for a year', async () => {
    const url = await gateway(development({ SUPABASE_URL: 'https://proj.supabase.co' }), dist);
    for (const p of ['/', '/index.html']) {
      const page = await get(url, p, HTML);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toBe(INDEX);
      const csp = page.headers.get('content-security-policy')!;
      const directives = Object.fromEntries(
        csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]),
      );
      expect(directives).toMatchObject({
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'", 'https://proj.supabase.co'],
        'frame-ancestors': ["'none'"],
      });
      expect(csp).not.toContain('unsafe');
    }
    const js = await get(url, '/assets/app-3f9a1c.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('console.log("console");');
    expect((await get(url, '/assets/app-3f9a1c.css')).headers.get('content-type')).toMatch(/^text\/css/);
    // Files at the root of the build are not hashed: revalidated like index.html.
    expect((await get(url, '/favicon.svg')).headers.get('cache-control')).toBe('no-cache');
  });

  it('answers HEAD like GET, without a body', async () => {
    const url = await gateway(development(), dist);
    for (const p of ['/', '/assets/app-3f9a1c.js', '/runs/123']) {
      const res = await get(url, p, HTML, 'HEAD');
      expect([p, res.status]).toEqual([p, 200]);
      expect(await res.text()).toBe('');
    }
    expect((await get(url, '/', HTML, 'HEAD')).headers.get('cache-control')).toBe('no-cache');
  });

  it('hands the app its own URLs (a reload on /runs/123), but only to a browser asking for a page', async () => {
    const url = await gateway(development(), dist);
    const deep = await get(url, '/runs/123?tab=steps', HTML);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(INDEX);
    expect(deep.headers.get('cache-control')).toBe('no-cache');
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(deep.headers.get('content-security-policy')).toContain("connect-src 'self';");
    const notPages: Array<Record<string, string>> = [{}, { accept: 'application/json' }, { accept: '*/*' }];
    for (const headers of notPages)
      expectError(await client(url).get('/runs/123', { headers }), 404, 'not_found');
    expectError(await client(url).call('POST', '/runs/123', { headers: HTML }), 404, 'not_found');
    // An asset that is not there is a 404 even for a page request: HTML would hide the stale reference.
    expectError(await client(url).get('/assets/app-old.js', { headers: HTML }), 404, 'not_found');
  });

  it('leaves the API as it is: JSON errors, its own CSP, its pages', async () => {
    const url = await gateway(development(), dist);
    const unknown = await client(url).get('/v1/nothing', { headers: HTML });
    expectError(unknown, 401, 'unauthenticated');
    const token = (await newUser()).token;
    expectError(await client(url, token).get('/v1/nothing', { headers: HTML }), 404, 'not_found');
    for (const p of ['/admin/nothing', '/health/nothing', '/docs/nothing', '/metrics/x', '/openapi.json/x'])
      expect([p, (await get(url, p, HTML)).headers.get('content-type')]).toEqual([
        p,
        expect.stringMatching(/^application\/json/),
      ]);
    const live = await get(url, '/health/live', HTML);
    expect(await live.json()).toEqual({ status: 'ok' });
    expect(live.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect((await get(url, '/docs', HTML)).headers.get('content-security-policy')).not.toContain(
      "connect-src 'self';",
    );
    expect((await client(url).get('/openapi.json')).body.openapi).toBe('3.1.0');
  });

  it('without a build, says how to make one at / (not a 500), and serves it once it appears', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-console-empty-'));
    try {
      for (const url of [await gateway(development(), empty), await gateway(development())]) {
        const page = await get(url, '/', HTML);
        expect(page.status).toBe(404);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await page.text()).toContain('npm run build:web');
        const json = await client(url).get('/');
        expectError(json, 404, 'console_not_built');
        expect(json.body.error.message).toContain('npm run build:web');
        // Only / hints: any other path stays the API's 404.
        expectError(await client(url).get('/runs/1', { headers: HTML }), 404, 'not_found');
      }
      const url = await gateway(development(), empty);
      fs.writeFileSync(path.join(empty, 'index.html'), INDEX);
      const built = await get(url, '/', HTML);
      expect(built.status).toBe(200);
      expect(await built.text()).toBe(INDEX);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
