import { randomUUID } from 'node:crypto';
import { newUser, newWorkspace } from '../support/factories';
import { client, eventually } from '../support/http';
import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';
import { runsClient } from '../support/agent-runs';
import {
  alertRules,
  dashboardQueries,
  declaredNames,
  promqlMetricNames,
  sampleValue,
  samples,
} from '../support/prometheus';
import { buildModelCatalog } from '@raptorflow/llm/model-catalog.builder';

/**
 * The metrics as Prometheus would scrape them: the gateway and the three workers as real processes, with
 * METRICS_TOKEN set as in docker-compose. Real activity (a workspace created over the API, seeded, and a
 * research run to completion) and real rows make the new metrics move; then every metric the alert rules
 * and the dashboard name must be exported by at least one service.
 */
const { stack, services } = useServices();
const TOKEN = 'observability-test-metrics-token';
let gateway: RunningService;
let runner: RunningService;
let ledger: RunningService;
let all: RunningService[];

beforeAll(async () => {
  const env = serviceEnv({
    LLM_PROVIDER: 'local',
    METRICS_TOKEN: TOKEN,
    // A chain with a dated model (gemini-2.5-flash retires 2026-12-01) and an undated one.
    MODEL_FAST: 'gemini:gemini-2.5-flash,gemini:gemini-3.8-flash',
  });
  all = await Promise.all(
    (['gateway', 'seeder', 'agent-runner', 'cost-ledger'] as const).map((n) => services.start(n, env)),
  );
  [gateway, , runner, ledger] = all as [RunningService, RunningService, RunningService, RunningService];
}, 120_000);

async function scrape(service: RunningService): Promise<string> {
  const res = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`${service.name} /metrics answered ${res.status}`);
  return res.text();
}

it('serves /metrics only with the bearer token Prometheus is configured with', async () => {
  for (const s of all) expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
  expect(await scrape(gateway)).toContain('# TYPE raptorflow_outbox_lag_seconds gauge');
});

it('times a research run: its wait for a runner and its duration by flow and outcome', async () => {
  const owner = await newUser();
  const c = client(gateway.url, owner.token);
  const created = await c.post('/v1/workspaces', { name: 'Metrics Co' });
  expect(created.status).toBe(201);
  const ws = { id: created.body.id as string, name: 'Metrics Co' };
  // Seeded by the seeder process from the workspace.created event.
  await eventually(async () => {
    const res = await c.get('/v1/agents', { headers: { 'x-workspace-id': ws.id } });
    return res.body.data?.length === 7;
  }, 20_000);
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create({ agent: 'cognition', input: { topic: 'metrics for oat milk' } });
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 60_000);
  expect(run.status).toBe('completed');

  // Observed once the finishing transaction committed, which precedes the API showing `completed`.
  const text = await scrape(runner);
  const completed = { flow: 'research', outcome: 'completed' };
  expect(sampleValue(text, 'raptorflow_run_duration_seconds_count', completed)).toBeGreaterThanOrEqual(1);
  expect(sampleValue(text, 'raptorflow_run_duration_seconds_sum', completed)).toBeGreaterThan(0);
  expect(
    sampleValue(text, 'raptorflow_run_queue_wait_seconds_count', { flow: 'research' }),
  ).toBeGreaterThanOrEqual(1);
  // The run spent part of the month's budget: the admission counter the utilisation gauge reads.
  const usage = await stack.db('budget_usage').where({ workspace_id: ws.id }).first();
  expect(Number(usage.spent_usd)).toBeGreaterThan(0);
}, 90_000);

it('shows the outbox lag of a stuck row, and 0 once it is delivered', async () => {
  const id = randomUUID();
  // Backed off for an hour (as after Redis refused it): the relay leaves it alone, so only the gauge moves.
  await stack.db('event_outbox').insert({
    id,
    event_type: 'test.event',
    queue: 'system',
    envelope: JSON.stringify({ event_id: id }),
    created_at: stack.db.raw(`now() - interval '90 seconds'`),
    available_at: stack.db.raw(`now() + interval '1 hour'`),
  });
  try {
    const lag = sampleValue(await scrape(gateway), 'raptorflow_outbox_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(90);
    expect(lag).toBeLessThan(600);
  } finally {
    await stack.db('event_outbox').where({ id }).update({ enqueued_at: stack.db.fn.now() });
  }
  // Other rows of this stack may be pending for a moment on the fast path, never for a minute.
  const after = await eventually(async () => {
    const v = sampleValue(await scrape(gateway), 'raptorflow_outbox_lag_seconds');
    return v !== undefined && v < 60 ? { v } : undefined;
  }, 10_000);
  expect(after.v).toBeLessThan(60);
  await stack.db('event_outbox').where({ id }).delete();
});

it('shows the ten most utilised workspaces, in order, from PostgreSQL; one that drops out vanishes', async () => {
  const owner = await newUser();
  const wss = await Promise.all(Array.from({ length: 12 }, () => newWorkspace(stack.db, owner)));
  // Shares from 10.0 down to 8.9 of a 1 USD budget: above anything a budget admits, so these lead.
  await stack
    .db('workspace_budgets')
    .insert(wss.map((w) => ({ workspace_id: w.id, monthly_budget_usd: '1', updated_by: owner.id })));
  await stack.db('budget_usage').insert(
    wss.map((w, i) => ({
      workspace_id: w.id,
      month: stack.db.raw(`date_trunc('month', now() AT TIME ZONE 'UTC')::date`),
      spent_usd: (10 - i / 10).toFixed(1),
    })),
  );
  try {
    const shown = samples(await scrape(ledger), 'raptorflow_budget_utilisation_ratio');
    expect(shown.map((s) => [s.labels.workspace_id, s.value])).toEqual(
      wss.slice(0, 10).map((w, i) => [w.id, Number((10 - i / 10).toFixed(1))]),
    );
    // The leader's spend is gone: it leaves the gauge and the eleventh comes in.
    await stack.db('budget_usage').where({ workspace_id: wss[0]!.id }).delete();
    const next = samples(await scrape(ledger), 'raptorflow_budget_utilisation_ratio');
    expect(next.map((s) => s.labels.workspace_id)).toEqual(wss.slice(1, 11).map((w) => w.id));
    // Workspace ids are on the cost-ledger's internal port only.
    expect(await scrape(gateway)).not.toContain('raptorflow_budget_utilisation_ratio');
  } finally {
    await stack
      .db('workspaces')
      .whereIn(
        'id',
        wss.map((w) => w.id),
      )
      .delete();
  }
});

it("gives each configured model's days to retirement, by alias, on the gateway and the runner", async () => {
  const catalog = buildModelCatalog();
  const entry = catalog.lookup('gemini-2.5-flash')!;
  const before = catalog.daysUntilRetirement(entry, new Date());
  for (const s of [gateway, runner]) {
    const text = await scrape(s);
    const after = catalog.daysUntilRetirement(entry, new Date());
    const dated = sampleValue(text, 'raptorflow_model_retirement_days', {
      alias: 'fast',
      model: 'gemini-2.5-flash',
    });
    // Either side of a midnight that fell between the two reads.
    expect([before, after]).toContain(dated);
    expect(
      sampleValue(text, 'raptorflow_model_retirement_days', { alias: 'fast', model: 'gemini-3.8-flash' }),
    ).toBe(Number.POSITIVE_INFINITY);
    expect(new Set(samples(text, 'raptorflow_model_retirement_days').map((x) => x.labels.alias))).toEqual(
      new Set(['fast', 'standard', 'heavy', 'embed']),
    );
  }
});

it('exports every metric the alert rules and the dashboard name, from at least one service', async () => {
  const exported = new Set<string>();
  for (const s of all) for (const n of declaredNames(await scrape(s))) exported.add(n);
  const used = new Map<string, string>();
  for (const r of alertRules()) for (const n of promqlMetricNames(r.expr)) used.set(n, `alert ${r.alert}`);
  for (const q of dashboardQueries())
    for (const n of promqlMetricNames(q.expr)) used.set(n, `dashboard panel "${q.panel}"`);
  expect(used.size).toBeGreaterThanOrEqual(17);
  const missing = [...used].filter(([n]) => !exported.has(n)).map(([n, where]) => `${n} (${where})`);
  expect(missing).toEqual([]);
  // The new metrics are among them.
  for (const n of [
    'raptorflow_outbox_lag_seconds',
    'raptorflow_run_queue_wait_seconds_bucket',
    'raptorflow_run_duration_seconds_count',
    'raptorflow_budget_utilisation_ratio',
    'raptorflow_model_retirement_days',
  ])
    expect(used.has(n)).toBe(true);
});
