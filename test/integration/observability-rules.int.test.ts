import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALERTS_FILE,
  DEPLOY,
  alertRules,
  dashboardQueries,
  promqlMetricNames,
  promtool,
  runPromtool,
  withGrafanaVariables,
} from '../support/prometheus';

/**
 * The operator kit in deploy/ as Prometheus itself reads it: promtool (Debian's `prometheus` package; CI
 * installs it) checks the alert rules, runs their unit tests (alerts.test.yml: each alert fires on a
 * synthetic series and stays quiet on a benign one), checks the scrape config, and parses every dashboard
 * query. Which metrics those name, and that the services export them: observability-metrics.int.test.ts.
 */
const DOCS = path.resolve(__dirname, '../../docs/observability.md');
let scratch: string;

beforeAll(() => {
  // Fails the file at once, saying how to install promtool, rather than skipping the checks.
  promtool();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-promtool-'));
});

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

it('promtool check rules accepts the six alerts', () => {
  const out = runPromtool(['check', 'rules', ALERTS_FILE]);
  expect(out).toMatch(/SUCCESS: 6 rules found/);
  expect(alertRules().map((r) => r.alert)).toEqual([
    'RaptorFlowDeadLettersRising',
    'RaptorFlowOutboxLagging',
    'RaptorFlowQueueBacklogGrowing',
    'RaptorFlowHttp5xxRate',
    'RaptorFlowBudgetRejections',
    'RaptorFlowModelNearRetirement',
  ]);
});

it('promtool test rules: each alert fires on its synthetic series and not on a quiet one', () => {
  const out = runPromtool(['test', 'rules', 'alerts.test.yml'], path.join(DEPLOY, 'prometheus'));
  expect(out).toMatch(/SUCCESS/);
  // Every alert is exercised by at least one firing case.
  const tests = fs.readFileSync(path.join(DEPLOY, 'prometheus/alerts.test.yml'), 'utf8');
  for (const { alert } of alertRules()) expect(tests).toMatch(new RegExp(`alertname: ${alert}\\b`));
});

it('every alert has a summary, a description and a runbook entry that exists in docs/observability.md', () => {
  const docs = fs.readFileSync(DOCS, 'utf8');
  // GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
  const anchors = new Set(
    [...docs.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  for (const rule of alertRules()) {
    expect(rule.annotations).toEqual(
      expect.objectContaining({
        summary: expect.any(String),
        description: expect.any(String),
        runbook_url: `docs/observability.md#${rule.alert.toLowerCase()}`,
      }),
    );
    if (!anchors.has(rule.alert.toLowerCase()))
      throw new Error(`docs/observability.md has no "### ${rule.alert}" runbook entry`);
  }
});

it('promtool check config accepts the scrape config and loads the rules beside it', () => {
  // The gateway's bearer token file exists only in the running container: point the check at a stand-in.
  const token = path.join(scratch, 'metrics-token');
  fs.writeFileSync(token, 'example-metrics-token');
  const config = fs
    .readFileSync(path.join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')
    .replace('/prometheus/metrics-token', token);
  expect(config).toContain(token);
  fs.writeFileSync(path.join(scratch, 'prometheus.yml'), config);
  fs.copyFileSync(ALERTS_FILE, path.join(scratch, 'alerts.yml'));
  expect(runPromtool(['check', 'config', 'prometheus.yml'], scratch)).toMatch(/SUCCESS: 6 rules found/);
});

it('every dashboard query is valid PromQL (promtool parses each one as a recording rule)', () => {
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThanOrEqual(20);
  const rules = queries.map((q, i) => ({
    record: `raptorflow_dashboard:query_${i}`,
    expr: withGrafanaVariables(q.expr),
  }));
  const file = path.join(scratch, 'dashboard-queries.yml');
  fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
  expect(runPromtool(['check', 'rules', file])).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
});

it('reads metric names out of PromQL: functions, labels, grouping, ranges and offsets stripped', () => {
  expect(
    promqlMetricNames(
      'sum by (queue, event) (((raptorflow_dead_letters_total unless raptorflow_dead_letters_total offset 15m) + 0) or increase(raptorflow_dead_letters_total[15m])) > 0',
    ),
  ).toEqual(['raptorflow_dead_letters_total']);
  expect(
    promqlMetricNames(
      'histogram_quantile(0.95, sum by (flow, le) (rate(raptorflow_run_queue_wait_seconds_bucket{outcome="completed", flow=~"a|b"}[$__rate_interval])))',
    ),
  ).toEqual(['raptorflow_run_queue_wait_seconds_bucket']);
  expect(
    promqlMetricNames(
      'sum(increase(raptorflow_llm_cost_usd_total[24h])) or vector(0) / on(x) group_left(y) up',
    ),
  ).toEqual(['raptorflow_llm_cost_usd_total', 'up']);
});
