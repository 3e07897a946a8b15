import { newTeam, newUser } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { catalogPricing } from '../support/llm';
import { openStack } from '../support/stack';

/**
 * POST /v1/model/dispatch and GET /v1/costs/summary over HTTP, on the offline `local` provider (no provider
 * credentials are set in tests): shapes, validation, roles, the 402 shape, and a summary that adds up.
 */
const stack = openStack();
const gateway = useGateway(stack);
const hi = { model: 'fast', messages: [{ role: 'user', content: 'Three taglines for a bakery' }] };

it('dispatches for a member and returns text, usage and the exact cost', async () => {
  const t = await newTeam(stack.db);
  const m = client(gateway.url(), t.member.token);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const res = await m.post('/v1/model/dispatch', { ...hi, system: 'Be brief.', max_tokens: 200 }, h);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    text: expect.stringContaining('bakery'),
    model: 'gemini-3.8-flash',
    provider: 'local',
    alias: 'fast',
    usage: {
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
      cached_input_tokens: 0,
      cache_write_tokens: 0,
      thinking_tokens: 0,
    },
    cost_usd: expect.any(Number),
    cost_log_id: expect.any(String),
  });
  const { input_tokens, output_tokens } = res.body.usage;
  // The catalog's list prices for the day (thousandths of a USD per 1M tokens → USD).
  const { input, output } = catalogPricing('gemini-3.8-flash').base;
  expect(res.body.cost_usd).toBeCloseTo((input_tokens * input + output_tokens * output) / 1e9, 12);
  // Deterministic: the same request costs the same.
  const again = await m.post('/v1/model/dispatch', { ...hi, system: 'Be brief.', max_tokens: 200 }, h);
  expect(again.body.text).toBe(res.body.text);

  const summary = await m.get('/v1/costs/summary', h);
  expect(summary.status).toBe(200);
  expect(summary.body).toEqual({
    month: new Date().toISOString().slice(0, 7),
    budget_usd: 50,
    spent_usd: res.body.cost_usd * 2,
    reserved_usd: 0,
    remaining_usd: 50 - res.body.cost_usd * 2,
    percent_used: expect.any(Number),
    alerts: [],
    by_model: [
      {
        model: 'gemini-3.8-flash',
        calls: 2,
        input_tokens: input_tokens * 2,
        output_tokens: output_tokens * 2,
        spent_usd: res.body.cost_usd * 2,
      },
    ],
  });
  const metrics = await (await fetch(`${gateway.url()}/metrics`)).text();
  expect(metrics).toMatch(
    /raptorflow_llm_tokens_total\{provider="local",model="gemini-3.8-flash",kind="output"\} \d+/,
  );
  expect(metrics).toMatch(
    /raptorflow_llm_cost_usd_total\{provider="local",model="gemini-3.8-flash"\} [\d.e-]+/,
  );
  expect(metrics).toMatch(
    /raptorflow_llm_calls_total\{provider="local",model="gemini-3.8-flash",outcome="success"\} \d+/,
  );
  const past = await m.get('/v1/costs/summary?month=2020-01', h);
  expect(past.body).toMatchObject({ month: '2020-01', spent_usd: 0, by_model: [] });
});

it('refuses bad input with 422 and changes nothing', async () => {
  const t = await newTeam(stack.db);
  const m = client(gateway.url(), t.member.token);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  for (const bad of [
    {},
    { ...hi, model: 'gpt-9' },
    { ...hi, messages: [] },
    { ...hi, messages: [{ role: 'system', content: 'x' }] },
    { ...hi, messages: [{ role: 'assistant', content: 'first' }] },
    { ...hi, messages: [{ role: 'user', content: '' }] },
    { ...hi, max_tokens: 0 },
    { ...hi, max_tokens: 1.5 },
    { ...hi, max_tokens: 70_000 },
    { ...hi, extra: true },
  ])
    expectError(await m.post('/v1/model/dispatch', bad, h), 422, 'validation_failed');
  for (const q of ['month=2026-13', 'month=26-01', 'month=x', 'other=1'])
    expectError(await m.get(`/v1/costs/summary?${q}`, h), 422, 'validation_failed');
  expect(await stack.db('cost_logs').where({ workspace_id: t.ws.id })).toHaveLength(0);
  expect(await stack.db('budget_reservations').where({ workspace_id: t.ws.id })).toHaveLength(0);
});

it('answers 402 with budget details when the worst case does not fit, and 403 to outsiders', async () => {
  const t = await newTeam(stack.db);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const owner = client(gateway.url(), t.owner.token);
  expect(
    (await owner.call('PUT', `/v1/workspaces/${t.ws.id}/budget`, { body: { monthly_budget_usd: 0.0001 } }))
      .status,
  ).toBe(200);
  const res = await client(gateway.url(), t.member.token).post(
    '/v1/model/dispatch',
    { ...hi, max_tokens: 1000 },
    h,
  );
  expectError(res, 402, 'budget_exceeded');
  expect(res.body.error.details).toEqual({
    budget_usd: 0.0001,
    spent_usd: 0,
    reserved_usd: 0,
    requested_usd: expect.any(Number),
  });
  expect(res.body.error.details.requested_usd).toBeGreaterThan(0.0001);
  expect(await (await fetch(`${gateway.url()}/metrics`)).text()).toMatch(
    /raptorflow_budget_rejections_total [1-9]/,
  );
  expectError(
    await client(gateway.url(), (await newUser()).token).post('/v1/model/dispatch', hi, h),
    403,
    'permission_denied',
  );
  expectError(await client(gateway.url()).post('/v1/model/dispatch', hi, h), 401, 'unauthenticated');
});
