import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * The operator kit as tests read it: the alert rules and the dashboard's PromQL, the metric names they use,
 * what a /metrics text declares and holds, and promtool (Debian's `prometheus` package).
 */
export const DEPLOY = path.resolve(__dirname, '../../deploy');
export const ALERTS_FILE = path.join(DEPLOY, 'prometheus/alerts.yml');
export const DASHBOARD_FILE = path.join(DEPLOY, 'grafana/dashboards/raptorflow.json');

export interface AlertRule {
  alert: string;
  expr: string;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(fs.readFileSync(ALERTS_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

interface Panel {
  title?: string;
  type: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

/** Every panel query of the dashboard, rows' nested panels included, with the panel it belongs to. */
export function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Panel[] };
  const all = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(dash.panels).flatMap((p) =>
    (p.targets ?? []).filter((t) => t.expr).map((t) => ({ panel: p.title ?? p.type, expr: t.expr! })),
  );
}

/** Grafana's interval variables, as Prometheus would see them once Grafana substituted them. */
export function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: strings, label matchers `{…}`, ranges `[…]` and grouping
 * lists `by (…)` are removed first; then every identifier that is not a function call (followed by `(`),
 * a keyword or a number is a metric name.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = withGrafanaVariables(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const word = m[0];
    const rest = stripped.slice(m.index + word.length);
    if (/^\s*\(/.test(rest) || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/**
 * The sample names a /metrics text declares (`# TYPE` lines), a series or not: a counter with labels has
 * none until its first increment, and is exported all the same. A histogram declares its `_bucket`, `_sum`
 * and `_count` series.
 */
export function declaredNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const m of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** A sample value as Prometheus reads it: `+Inf`, `-Inf` and any case of NaN are numbers too. */
function promValue(text: string): number {
  if (/^\+?inf$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Every series of `name` in a /metrics text, as its labels and value. */
export function samples(
  metricsText: string,
  name: string,
): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of metricsText.split('\n')) {
    const m = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    out.push({ labels, value: promValue(m[3]!) });
  }
  return out;
}

/** The value of the first series of `name` whose labels include `labels` (undefined when there is none). */
export function sampleValue(
  metricsText: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples(metricsText, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/** promtool's path, or an error that says how to get it (CI installs it: .ci/run). */
export function promtool(): string {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  if (found.status !== 0 || !bin)
    throw new Error(
      'promtool is not on PATH: install Debian\'s "prometheus" package (apt-get install prometheus), which ' +
        'ships it; .ci/run installs it when missing. The alert rules in deploy/prometheus are checked with it.',
    );
  return bin;
}

/** Runs promtool; resolves with its output, or throws with the output when it exits non-zero. */
export function runPromtool(args: string[], cwd = DEPLOY): string {
  try {
    return execFileSync(promtool(), args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, {
      cause: err,
    });
  }
}
