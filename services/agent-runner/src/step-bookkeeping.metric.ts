import { Histogram } from 'prom-client';
import { getMetrics } from '@raptorflow/core/metrics/metrics';

/**
 * What a step did besides its bookkeeping: `model` dispatched at least one model call, `memory` only recalled
 * or remembered, `none` neither (a guardrail check), `stored` returned a completed step's stored output.
 */
export type StepWork = 'model' | 'memory' | 'none' | 'stored';

export const STEP_BOOKKEEPING_METRIC = 'raptorflow_run_step_bookkeeping_seconds';

let histogram: Histogram<'work'> | undefined;

/**
 * The runner's own cost of a step: its wall time minus the time spent in its model calls and memory calls
 * (step row, audit row, run events, cost-so-far, parsing). Buckets are fine below 5 ms, where it should sit,
 * so a bench can read p50 and p99 from a scrape; registered on the process's metrics registry on first use.
 */
export function observeStepBookkeeping(work: StepWork, seconds: number): void {
  histogram ??= new Histogram({
    name: STEP_BOOKKEEPING_METRIC,
    help: 'Wall time of a run step minus its model and memory calls (the runner bookkeeping), by work kind',
    labelNames: ['work'] as const,
    buckets: [
      0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.00175, 0.002, 0.0025, 0.003, 0.0035, 0.004, 0.005,
      0.006, 0.007, 0.008, 0.01, 0.0125, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1,
    ],
    registers: [getMetrics().registry],
  });
  histogram.observe({ work }, Math.max(0, seconds));
}
