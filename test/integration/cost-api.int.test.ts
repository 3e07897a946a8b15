import { getLogger } from '@raptorflow/core/logging/logger';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import { newTeam } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client } from '../support/http';
import { budgetAlerts, insertCostRows } from '../support/ledger';
import { openStack } from '../support/stack';

/** GET /v1/costs/daily and the alerts of GET /v1/costs/summary, over rows folded by the real ledger service. */
const stack = openStack();
const gateway = useGateway(stack);
const ledger = new CostLedgerService({
  db: stack.db,
  alerts: budgetAlerts(stack),
  logger: getLogger(),
});

const day = (offsetDays: number) => new Date(Date.now() - offsetDays * 86_400_000).toISOString().slice(0, 10);

it('lists spend per UTC day and model, within the range, to the nano-dollar', async () => {
  const t = await newTeam(stack.db);
  const ids = await insertCostRows(stack.db, [
    {
      workspaceId: t.ws.id,
      costUsd: '0.000000001',
      model: 'gemini-3.8-flash',
      at: `${day(2)}T23:59:59.999Z`,
    },
    { workspaceId: t.ws.id, costUsd: '0.5', model: 'gemini-3.8-flash', at: `${day(2)}T00:00:00.000Z` },
    { workspaceId: t.ws.id, costUsd: '1.25', model: 'claude-sonnet-5', at: `${day(1)}T12:00:00.000Z` },
    { workspaceId: t.ws.id, costUsd: '9', model: 'gemini-3.1-pro-preview', at: `${day(40)}T12:00:00.000Z` },
  ]);
  for (const id of ids) await ledger.fold(id);
  const m = client(gateway.url(), t.member.token);
  const h = { headers: { 'x-workspace-id': t.ws.id } };
  const res = await m.get(`/v1/costs/daily?from=${day(3)}&to=${day(0)}`, h);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    from: day(3),
    to: day(0),
    data: [
      {
        day: day(2),
        model: 'gemini-3.8-flash',
        calls: 2,
        input_tokens: 200,
        output_tokens: 100,
        spent_usd: 0.500000001,
      },
      {
        day: day(1),
        model: 'claude-sonnet-5',
        calls: 1,
        input_tokens: 100,
        output_tokens: 50,
        spent_usd: 1.25,
      },
    ],
  });
  expect((await m.get('/v1/costs/daily', h)).body.data).toHaveLength(2); // default: the last 30 days
  for (const q of [
    'from=2026-02-30',
    'from=x',
    `from=${day(0)}&to=${day(1)}`,
    'from=2020-01-01&to=2026-01-01',
    'y=1',
  ])
    expectError(await m.get(`/v1/costs/daily?${q}`, h), 422, 'validation_failed');
});

it('shows the alerts fired this month in the summary', async () => {
  const t = await newTeam(stack.db);
  await stack.db('workspace_budgets').insert({ workspace_id: t.ws.id, monthly_budget_usd: '2' });
  const ids = await insertCostRows(stack.db, [{ workspaceId: t.ws.id, costUsd: '1.7' }]);
  await ledger.fold(ids[0]!);
  const res = await client(gateway.url(), t.member.token).get('/v1/costs/summary', {
    headers: { 'x-workspace-id': t.ws.id },
  });
  expect(res.body.alerts).toEqual([
    {
      threshold_percent: 50,
      spent_usd: 1.7,
      budget_usd: 2,
      fired_at: expect.any(String),
      delivered_at: null,
    },
    {
      threshold_percent: 80,
      spent_usd: 1.7,
      budget_usd: 2,
      fired_at: expect.any(String),
      delivered_at: null,
    },
  ]);
});
