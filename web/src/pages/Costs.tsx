import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useId, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { unwrap, ws } from '../api/client';
import { keys } from '../api/queries';
import type { DailyCosts } from '../api/types';
import { useApi, useConfig } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime, usd } from '../components/format';
import { isStandInModel, StandInTag } from '../components/StandInBanner';
import { TableWrap } from '../components/TableWrap';
import { Empty, Loading, QueryView } from '../components/States';
import { currentMonth, daysBetween, isoDay, monthDays } from '../lib/dates';

const SpendChart = lazy(() => import('../components/SpendChart'));

/** Colour-blind-safe hues (Okabe–Ito), dark enough on white. */
const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** The month's spend against the budget, the alerts it fired, and the daily spend by model. */
export function CostsPage() {
  const api = useApi();
  const { workspace } = useWorkspace();
  useDocumentTitle('Costs', workspace.name);
  const thisMonth = currentMonth();
  const [month, setMonth] = useState(thisMonth);
  const monthId = useId();
  const summary = useQuery({
    queryKey: keys.costSummary(workspace.id, month),
    queryFn: () =>
      unwrap(api.GET('/v1/costs/summary', { params: { header: ws(workspace.id), query: { month } } })),
  });
  const span = monthDays(month);
  const today = isoDay(new Date());
  const to = span.to > today && span.from <= today ? today : span.to;
  const daily = useQuery({
    queryKey: keys.dailyCosts(workspace.id, span.from, to),
    queryFn: () =>
      unwrap(
        api.GET('/v1/costs/daily', { params: { header: ws(workspace.id), query: { from: span.from, to } } }),
      ),
  });
  const monthLabel = new Date(`${month}-01T00:00:00Z`).toLocaleString('en-US', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });

  return (
    <div className="page">
      <h1>Costs</h1>
      <div className="field narrow">
        <label htmlFor={monthId}>Month (UTC)</label>
        <input
          id={monthId}
          type="month"
          value={month}
          max={thisMonth}
          onChange={(e) => e.target.value && setMonth(e.target.value)}
        />
      </div>
      <QueryView query={summary} loading="Loading the month’s spend…">
        {(s) => (
          <>
            <section aria-labelledby="spend-h" className="card">
              <h2 id="spend-h">Spend against the monthly budget</h2>
              <div className="kpis">
                <div className="kpi">
                  <p className="kpi-label">
                    {month === thisMonth ? 'Spent this month' : `Spent in ${monthLabel}`}
                  </p>
                  <p className="kpi-value">{usd(s.spent_usd)}</p>
                </div>
                <div className="kpi">
                  <p className="kpi-label">Monthly budget</p>
                  <p className="kpi-value">{usd(s.budget_usd)}</p>
                </div>
                <div className="kpi">
                  <p className="kpi-label">Held by calls in flight</p>
                  <p className="kpi-value">{usd(s.reserved_usd)}</p>
                </div>
                <div className="kpi">
                  <p className="kpi-label">Remaining</p>
                  <p className="kpi-value">{usd(s.remaining_usd)}</p>
                </div>
              </div>
              <div className="meter-row">
                <meter
                  min={0}
                  max={100}
                  low={50}
                  high={80}
                  optimum={0}
                  value={Math.min(100, s.percent_used)}
                  aria-label="Share of the budget spent"
                />
                <span>{s.percent_used.toFixed(2)} % used</span>
              </div>
              <p className="muted small">
                <Link to={`/w/${workspace.id}/budget`}>Monthly limit settings</Link>
              </p>
            </section>
            <Alerts alerts={s.alerts} />
            <ByModel rows={s.by_model} />
          </>
        )}
      </QueryView>
      <section aria-labelledby="daily-h" className="card">
        <h2 id="daily-h">Spend per day</h2>
        <QueryView query={daily} loading="Loading the daily spend…">
          {(d) => <Daily data={d} />}
        </QueryView>
      </section>
    </div>
  );
}

function Alerts({
  alerts,
}: {
  alerts: ReadonlyArray<{
    threshold_percent: number;
    spent_usd: number;
    budget_usd: number;
    fired_at: string;
    delivered_at: string | null;
  }>;
}) {
  return (
    <section aria-labelledby="alerts-h" className="card">
      <h2 id="alerts-h">Alerts fired</h2>
      {alerts.length === 0 ? (
        <Empty>No threshold (50, 80 or 100 % of the budget) has been reached this month.</Empty>
      ) : (
        <ul className="alerts">
          {[...alerts]
            .sort((a, b) => a.threshold_percent - b.threshold_percent)
            .map((a) => (
              <li
                key={a.threshold_percent}
                className={a.threshold_percent >= 100 ? 'alert-critical' : 'alert-warning'}
              >
                <strong>{a.threshold_percent} %</strong> of the budget reached on {dateTime(a.fired_at)}:{' '}
                {usd(a.spent_usd)} of {usd(a.budget_usd)}.{' '}
                <span className="muted small">
                  {a.delivered_at
                    ? `Webhook delivered ${dateTime(a.delivered_at)}.`
                    : 'Webhook not delivered (or none configured).'}
                </span>
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}

function ByModel({
  rows,
}: {
  rows: ReadonlyArray<{
    model: string;
    calls: number;
    input_tokens: number;
    output_tokens: number;
    spent_usd: number;
  }>;
}) {
  const config = useConfig();
  return (
    <section aria-labelledby="bymodel-h" className="card">
      <h2 id="bymodel-h">Spend by model</h2>
      {rows.length === 0 ? (
        <Empty>No model call this month.</Empty>
      ) : (
        <TableWrap label="Spend by model table">
          <table>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Calls</th>
                <th scope="col">Tokens in / out</th>
                <th scope="col">Spent</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.model}>
                  <td>
                    {r.model}
                    {isStandInModel(config, r.model) && (
                      <>
                        {' '}
                        <StandInTag />
                      </>
                    )}
                  </td>
                  <td>{r.calls}</td>
                  <td>
                    {r.input_tokens.toLocaleString('en-US')} / {r.output_tokens.toLocaleString('en-US')}
                  </td>
                  <td>{usd(r.spent_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

function Daily({ data }: { data: DailyCosts }) {
  const days = useMemo(() => daysBetween(data.from, data.to), [data.from, data.to]);
  const series = useMemo(() => {
    const models = [...new Set(data.data.map((r) => r.model))].sort();
    return models.map((model, i) => {
      const byDay = new Map(data.data.filter((r) => r.model === model).map((r) => [r.day, r.spent_usd]));
      return { model, color: COLORS[i % COLORS.length]!, values: days.map((d) => byDay.get(d) ?? 0) };
    });
  }, [data, days]);
  const withSpend = data.data.filter((r) => r.spent_usd > 0 || r.calls > 0);
  return (
    <figure aria-label="Daily spend by model" className="chart">
      {series.length === 0 ? (
        <Empty>
          No spend from {data.from} to {data.to}.
        </Empty>
      ) : (
        <>
          <Suspense fallback={<Loading label="Loading the chart…" />}>
            <SpendChart days={days} series={series} />
          </Suspense>
          <ul className="legend" aria-label="Models">
            {series.map((s) => (
              <li key={s.model}>
                <span className="swatch" style={{ background: s.color }} aria-hidden="true" /> {s.model}:{' '}
                {usd(s.values.reduce((a, b) => a + b, 0))}
              </li>
            ))}
          </ul>
          <details>
            <summary>Show the figures</summary>
            <TableWrap label="Figures per day">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Day (UTC)</th>
                    <th scope="col">Model</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Spent</th>
                  </tr>
                </thead>
                <tbody>
                  {withSpend.map((r) => (
                    <tr key={`${r.day}-${r.model}`}>
                      <td>{r.day}</td>
                      <td>{r.model}</td>
                      <td>{r.calls}</td>
                      <td>{usd(r.spent_usd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </details>
        </>
      )}
      <figcaption className="muted small">
        {data.from} to {data.to}, UTC days
      </figcaption>
    </figure>
  );
}
