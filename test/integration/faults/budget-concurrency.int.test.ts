import { nanoToDecimal, worstCaseNanoUsd } from '@raptorflow/core/money/money';
import { promptTokenUpperBound } from '@raptorflow/llm/token-estimate';
import { catalogPricing } from '../../support/llm';
import { newUser, newWorkspace } from '../../support/factories';
import type { TestUser, TestWorkspace } from '../../support/factories';
import { eventually } from '../../support/http';
import { fakeProviderEnv, newDispatcher, useFakeProviders } from '../../support/llm';
import { ServiceGroup, outputTail, serviceEnv } from '../../support/processes';
import type { RunningService } from '../../support/processes';
import { TestRedisServer } from '../../support/redis-server';
import { openStack } from '../../support/stack';

/**
 * 200 concurrent dispatches through real gateway processes against a budget that admits exactly 20 worst-case
 * calls. The fake provider bills each call at exactly its worst case, so the budget is used up by 20 calls
 * whatever the timing: the other 180 must be refused with 402 before any provider call, the spend must equal
 * the budget to the nano-dollar, and no reservation may be left active.
 */
const CALLS = 200;
const ADMITTED = 20;
const MAX_TOKENS = 1000;
const messages = [{ role: 'user' as const, content: 'Say hi' }];
const promptBound = promptTokenUpperBound(messages);
const worstCase = worstCaseNanoUsd(catalogPricing('gemini-3.8-flash'), promptBound, MAX_TOKENS);
const budget = nanoToDecimal(worstCase * BigInt(ADMITTED));

const stack = openStack();
const fakes = useFakeProviders();
const services = new ServiceGroup(stack.db);
afterAll(async () => {
  await services.stopAll();
  await stack.close();
}, 60_000);

beforeEach(() => {
  fakes.gemini.setDefault(
    {
      ok: { text: 'hi', usage: { promptTokenCount: promptBound, candidatesTokenCount: MAX_TOKENS } },
      delayMs: 50,
    },
    'gemini-3.8-flash',
  );
});

async function fundedWorkspace(): Promise<{ owner: TestUser; ws: TestWorkspace }> {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: budget });
  return { owner, ws };
}

async function dispatch(
  gateway: RunningService,
  owner: TestUser,
  ws: TestWorkspace,
): Promise<number | string> {
  try {
    const res = await fetch(`${gateway.url}/v1/model/dispatch`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${owner.token}`,
        'content-type': 'application/json',
        'x-workspace-id': ws.id,
      },
      body: JSON.stringify({ model: 'fast', messages, max_tokens: MAX_TOKENS }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { error?: { code: string } };
    if (res.status === 402) expect(body.error?.code).toBe('budget_exceeded');
    return res.status;
  } catch (err) {
    return String(err);
  }
}

async function expectExactlyBudget(wsId: string, statuses: Array<number | string>): Promise<void> {
  const count = (s: number | string) => statuses.filter((x) => x === s).length;
  expect({
    ok: count(200),
    refused: count(402),
    other: statuses.filter((s) => s !== 200 && s !== 402),
  }).toEqual({
    ok: ADMITTED,
    refused: CALLS - ADMITTED,
    other: [],
  });
  expect(fakes.gemini.callCount('gemini-3.8-flash')).toBe(ADMITTED);
  const usage = await stack.db('budget_usage').where({ workspace_id: wsId }).first();
  expect(usage.spent_usd).toBe(`${budget}0`); // numeric(20,10) keeps a 10th decimal
  expect(usage.reserved_usd).toBe('0.0000000000');
  const active = await stack.db('budget_reservations').where({ workspace_id: wsId, status: 'active' });
  expect(active).toHaveLength(0);
  const sums = await stack.db('cost_logs').where({ workspace_id: wsId }).sum('cost_usd as sum');
  expect(sums[0]?.sum).toBe(`${budget}0`);
}

it('two gateway processes, 200 concurrent calls: 20 admitted, 180 × 402 before any provider call', async () => {
  const env = serviceEnv(fakeProviderEnv(fakes));
  const gateways = await Promise.all([services.start('gateway', env), services.start('gateway', env)]);
  const { owner, ws } = await fundedWorkspace();
  const statuses = await Promise.all(
    Array.from({ length: CALLS }, (_, i) => dispatch(gateways[i % 2]!, owner, ws)),
  );
  await expectExactlyBudget(ws.id, statuses);
  await services.stopAll();
}, 120_000);

it('the same with Redis restarted in the middle: no spend lost, none past the budget', async () => {
  const redis = await TestRedisServer.start();
  try {
    const gateway = await services.start(
      'gateway',
      serviceEnv(fakeProviderEnv(fakes, { REDIS_URL: redis.url })),
    );
    const { owner, ws } = await fundedWorkspace();
    // Slow answers keep calls in flight while Redis goes away and comes back.
    fakes.gemini.setDefault(
      {
        ok: { text: 'hi', usage: { promptTokenCount: promptBound, candidatesTokenCount: MAX_TOKENS } },
        delayMs: 1_500,
      },
      'gemini-3.8-flash',
    );
    const calls = Array.from({ length: CALLS }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 10)).then(() => dispatch(gateway, owner, ws)),
    );
    // Calls are in flight (admitted, waiting on the model) before Redis goes away ...
    await eventually(async () => {
      const active = await stack.db('budget_reservations').where({ workspace_id: ws.id, status: 'active' });
      return active.length >= 5;
    }, 20_000);
    await redis.down();
    // ... and Redis comes back only once the gateway has seen it gone (its /health says down).
    await eventually(async () => (await fetch(`${gateway.url}/health`)).status === 503, 20_000);
    await redis.up();
    const statuses = await Promise.all(calls);
    if (statuses.some((s) => s !== 200 && s !== 402)) console.error(outputTail(gateway.child));
    await expectExactlyBudget(ws.id, statuses);
    // Every cost.recorded event committed while Redis was away reaches the queue once it is back.
    await eventually(async () => {
      const pending = await stack
        .db('event_outbox')
        .where({ workspace_id: ws.id, event_type: 'cost.recorded' })
        .whereNull('enqueued_at')
        .count<{ n: number }>('* as n')
        .first();
      return Number(pending!.n) === 0;
    }, 20_000);
  } finally {
    await services.stopAll();
    await redis.destroy();
  }
}, 120_000);

it('a holder killed mid-call: its reservation blocks nothing after expiry and is reclaimed', async () => {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  await stack
    .db('workspace_budgets')
    .insert({ workspace_id: ws.id, monthly_budget_usd: nanoToDecimal(worstCase) });
  fakes.gemini.setDefault({ hang: true }, 'gemini-3.8-flash');
  const gateway = await services.start(
    'gateway',
    serviceEnv(fakeProviderEnv(fakes, { LLM_DEADLINE_MS: '1500', BUDGET_RESERVATION_TTL_MS: '2000' })),
  );
  void dispatch(gateway, owner, ws);
  const held = await eventually(() =>
    stack.db('budget_reservations').where({ workspace_id: ws.id, status: 'active' }).first(),
  );
  gateway.child.kill('SIGKILL');

  fakes.gemini.setDefault(
    { ok: { text: 'hi', usage: { promptTokenCount: promptBound, candidatesTokenCount: MAX_TOKENS } } },
    'gemini-3.8-flash',
  );
  const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
  const call = () =>
    dispatcher.dispatch({ model: 'fast', messages, maxTokens: MAX_TOKENS }, { workspaceId: ws.id });
  // Before expiry the dead holder's reservation still counts: the budget has no room.
  await expect(call()).rejects.toMatchObject({ code: 'budget_exceeded' });
  // Expired by the database's clock, the one admission reads.
  await eventually(async () => {
    const { rows } = await stack.db.raw(`SELECT now() > ?::timestamptz AS past`, [held.expires_at]);
    return rows[0].past === true;
  }, 10_000);
  // After expiry the refused admission reclaims it and admits the call.
  await expect(call()).resolves.toMatchObject({ text: 'hi' });
  expect((await stack.db('budget_reservations').where({ id: held.id }).first()).status).toBe('expired');
  const usage = await stack.db('budget_usage').where({ workspace_id: ws.id }).first();
  expect(usage).toMatchObject({ reserved_usd: '0.0000000000', spent_usd: `${nanoToDecimal(worstCase)}0` });
}, 60_000);
