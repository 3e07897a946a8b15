import { ModelRouter } from '@raptorflow/llm/model-router';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';
import { getSettings, parseSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { createApp, whenReady } from '../../services/gateway/src/app';
import { newTeam } from '../support/factories';
import { expectError } from '../support/gateway';
import { client, listen } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The model table as an operator meets it over HTTP: /health lists each alias (model, provider, live|local,
 * retires_on) and turns degraded on a retired model or the stand-in; a dispatch never reaches a retired model;
 * cost rows carry the provider that answered and the pricing version. And /metrics outside development.
 */
const stack = openStack();
const servers: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  await stack.close();
});

async function gateway(
  opts: { env?: Record<string, string>; now?: string; settings?: Partial<Settings> } = {},
) {
  const base = getSettings();
  const llm = parseSettings({ ...opts.env }).llm;
  const settings = { ...base, ...opts.settings, llm } as Settings;
  const now = opts.now ? () => new Date(opts.now!) : undefined;
  const router = new ModelRouter({
    settings: llm,
    catalog: getModelCatalog(llm.catalogFile),
    ...(now ? { now } : {}),
  });
  const app = createApp({
    settings,
    db: stack.db,
    bus: stack.bus,
    redis: stack.redis,
    memoryPath: await detectMemorySearchPath(stack.db),
    router,
  });
  if (!(await whenReady(app))) throw new Error('gateway not ready');
  const server = await listen(app);
  servers.push(server);
  return server.url;
}

const ask = { messages: [{ role: 'user', content: 'One tagline for a bakery' }], max_tokens: 50 };

it('without credentials: degraded, every alias local, current models and no retirement', async () => {
  const url = await gateway();
  const res = await fetch(`${url}/health`);
  const body = (await res.json()) as any;
  expect(res.status).toBe(200);
  expect(body.status).toBe('degraded');
  expect(body.checks.models).toBe('local');
  expect(body.checks.aliases.map((a: any) => [a.alias, a.model, a.provider, a.mode, a.retires_on])).toEqual([
    ['fast', 'gemini-3.8-flash', 'gemini', 'local', null],
    ['standard', 'gemini-3.1-pro-preview', 'gemini', 'local', null],
    ['heavy', 'claude-sonnet-5', 'anthropic', 'local', null],
    ['embed', 'gemini-embedding-001', 'gemini', 'local', null],
  ]);
});

it('with credentials for both providers: ok; a configured model past retires_on makes it degraded', async () => {
  const keys = { GEMINI_API_KEY: 'k-not-used', ANTHROPIC_API_KEY: 'sk-ant-not-used' };
  const ok = (await (await fetch(`${await gateway({ env: keys })}/health`)).json()) as any;
  expect(ok.status).toBe('ok');
  expect(ok.checks.models).toBe('live');

  const env = { ...keys, MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash' };
  const before = (await (
    await fetch(`${await gateway({ env, now: '2026-11-20T00:00:00Z' })}/health`)
  ).json()) as any;
  expect(before.status).toBe('ok');
  expect(before.checks.aliases[0]).toMatchObject({
    model: 'gemini-2.5-flash',
    retires_on: '2026-12-01',
    retired: false,
  });
  const after = (await (
    await fetch(`${await gateway({ env, now: '2026-12-02T00:00:00Z' })}/health`)
  ).json()) as any;
  expect(after.status).toBe('degraded');
  expect(after.checks.aliases[0]).toMatchObject({ alias: 'fast', model: 'gemini-3.8-flash', mode: 'live' });
  expect(after.checks.aliases[0].chain[0]).toMatchObject({ model: 'gemini-2.5-flash', retired: true });
});

it('never dispatches to a retired model: the chain moves on, a direct request is refused with 422', async () => {
  const env = { MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash' };
  const url = await gateway({ env, now: '2026-12-02T00:00:00Z' });
  const t = await newTeam(stack.db);
  const m = client(url, t.member.token);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const res = await m.post('/v1/model/dispatch', { model: 'fast', ...ask }, h);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ model: 'gemini-3.8-flash', provider: 'local', alias: 'fast' });

  const direct = await m.post('/v1/model/dispatch', { model: 'gemini-2.5-flash', ...ask }, h);
  expectError(direct, 422, 'validation_failed');
  expect(JSON.stringify(direct.body.error.details)).toContain('body.model');
  expect(direct.body.error.message).toMatch(/retired \(since 2026-12-01\)/);

  // The stand-in's cost row says who answered, and which catalog priced it.
  const row = await stack.db('cost_logs').where({ id: res.body.cost_log_id }).first();
  expect(row).toMatchObject({ provider: 'local', model: 'gemini-3.8-flash' });
  expect(row.pricing_version).toBe(getModelCatalog(undefined).version);
  expect(row.pricing_version).toMatch(/^@pydantic\/genai-prices@\d+\.\d+\.\d+$/);
});

it('/metrics in production: 404 without METRICS_TOKEN; with it, only the bearer reads it', async () => {
  const hidden = await gateway({ settings: { isProduction: true, metricsToken: undefined } });
  expect((await fetch(`${hidden}/metrics`)).status).toBe(404);

  const token = 'metrics-token-for-tests-0001';
  const guarded = await gateway({ settings: { isProduction: true, metricsToken: token } });
  const anon = await fetch(`${guarded}/metrics`);
  expect(anon.status).toBe(401);
  expect(((await anon.json()) as any).error.code).toBe('unauthenticated');
  expect(
    (await fetch(`${guarded}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } }))
      .status,
  ).toBe(401);
  const ok = await fetch(`${guarded}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('raptorflow_');

  const dev = await gateway();
  expect((await fetch(`${dev}/metrics`)).status).toBe(200);
});
