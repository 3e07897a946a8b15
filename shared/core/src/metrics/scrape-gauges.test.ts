import { getMetrics } from './metrics';
import {
  BUDGET_UTILISATION_TOP_N,
  registerBudgetUtilisation,
  registerModelRetirement,
  registerOutboxLag,
} from './scrape-gauges';

const samples = async (name: string) =>
  (await getMetrics().registry.getSingleMetricAsString(name))
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));

describe('scrape-time gauges', () => {
  it('reads the outbox lag at each scrape, and says NaN (not a healthy 0) when the read fails', async () => {
    let lag: number | Error = 12.5;
    const unregister = registerOutboxLag(async () => {
      if (lag instanceof Error) throw lag;
      return lag;
    });
    try {
      expect(await samples('raptorflow_outbox_lag_seconds')).toEqual(['raptorflow_outbox_lag_seconds 12.5']);
      lag = 0;
      expect(await samples('raptorflow_outbox_lag_seconds')).toEqual(['raptorflow_outbox_lag_seconds 0']);
      lag = new Error('connection refused');
      // prom-client prints "Nan"; Prometheus parses any case of NaN (Go's ParseFloat).
      expect(await samples('raptorflow_outbox_lag_seconds')).toEqual([
        expect.stringMatching(/^raptorflow_outbox_lag_seconds nan$/i),
      ]);
      expect(() => registerOutboxLag(async () => 0)).toThrow(/already registered/);
    } finally {
      unregister();
    }
    expect(getMetrics().registry.getSingleMetric('raptorflow_outbox_lag_seconds')).toBeUndefined();
  });

  it('shows at most the top N workspaces, and a workspace that left the top vanishes at the next scrape', async () => {
    const many = Array.from({ length: BUDGET_UTILISATION_TOP_N + 5 }, (_, i) => ({
      workspaceId: `ws-${String(i).padStart(2, '0')}`,
      ratio: 1 - i / 100,
    }));
    let rows = many;
    const unregister = registerBudgetUtilisation(async () => rows);
    try {
      const first = await samples('raptorflow_budget_utilisation_ratio');
      expect(first).toHaveLength(BUDGET_UTILISATION_TOP_N);
      expect(first[0]).toBe('raptorflow_budget_utilisation_ratio{workspace_id="ws-00"} 1');
      rows = [{ workspaceId: 'ws-99', ratio: 0.25 }];
      expect(await samples('raptorflow_budget_utilisation_ratio')).toEqual([
        'raptorflow_budget_utilisation_ratio{workspace_id="ws-99"} 0.25',
      ]);
    } finally {
      unregister();
    }
  });

  it('lists each configured model by alias with its days left; +Inf when no date is announced', async () => {
    const unregister = registerModelRetirement(() => [
      { alias: 'fast', model: 'gemini-2.5-flash', days: 1 },
      { alias: 'fast', model: 'gemini-3.8-flash', days: Number.POSITIVE_INFINITY },
    ]);
    try {
      expect(await samples('raptorflow_model_retirement_days')).toEqual([
        'raptorflow_model_retirement_days{alias="fast",model="gemini-2.5-flash"} 1',
        'raptorflow_model_retirement_days{alias="fast",model="gemini-3.8-flash"} +Inf',
      ]);
    } finally {
      unregister();
    }
  });
});
