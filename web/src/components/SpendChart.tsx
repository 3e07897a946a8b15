import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { usd } from './format';

export interface SpendSeries {
  model: string;
  color: string;
  /** One value per day, aligned with `days`. */
  values: number[];
}

/**
 * Daily spend by model as a uPlot chart. This module (and uPlot) is loaded only when the costs page shows a
 * chart; the figures are also in a table beside it for anyone who cannot see the canvas.
 */
export default function SpendChart({ days, series }: { days: string[]; series: SpendSeries[] }) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values)];
    const width = () => Math.max(280, el.clientWidth || 600);
    const plot = new uPlot(
      {
        width: width(),
        height: 260,
        legend: { show: false },
        cursor: { points: { size: 6 } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 0.01] } },
        axes: [
          { stroke: '#334155', grid: { stroke: '#e2e8f0' } },
          {
            stroke: '#334155',
            grid: { stroke: '#e2e8f0' },
            size: 70,
            values: (_u, ticks) => ticks.map((t) => usd(t)),
          },
        ],
        series: [
          { label: 'Day' },
          ...series.map((s) => ({
            label: s.model,
            stroke: s.color,
            width: 2,
            fill: `${s.color}22`,
            points: { show: true, size: 5, fill: s.color },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : usd(v)),
          })),
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series]);

  return <div ref={host} className="chart-canvas" aria-hidden="true" />;
}
