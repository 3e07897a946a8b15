import { getMetrics, observeJob, registerQueueDepth } from './metrics';
import type { CountableQueue } from './metrics';

const depthLines = async () =>
  (await getMetrics().registry.getSingleMetricAsString('raptorflow_queue_jobs'))
    .split('\n')
    .filter((l) => !l.startsWith('#'));

describe('metrics', () => {
  it('is one registry per process', () => {
    expect(getMetrics()).toBe(getMetrics());
  });

  it('counts attempts and times only those this process ran', async () => {
    observeJob('cost', 'cost.recorded', 'completed', 0.02);
    observeJob('cost', 'cost.recorded', 'dead');
    const m = getMetrics();
    const count = (await m.jobsTotal.get()).values.filter((v) => v.labels.queue === 'cost');
    expect(count.map((v) => [v.labels.outcome, v.value]).sort()).toEqual([
      ['completed', 1],
      ['dead', 1],
    ]);
    const timed = (await m.jobDuration.get()).values.filter(
      (v) => v.metricName === 'raptorflow_job_duration_seconds_count' && v.labels.queue === 'cost',
    );
    expect(timed).toEqual([
      expect.objectContaining({ value: 1, labels: expect.objectContaining({ outcome: 'completed' }) }),
    ]);
  });

  it('reads queue depth at scrape time, skips a queue that does not answer, and can be unregistered', async () => {
    const ok: CountableQueue = {
      name: 'workspace',
      getJobCounts: async () => ({ waiting: 3, active: 1, delayed: 0, failed: 2, completed: 9 }),
    };
    const down: CountableQueue = {
      name: 'agent',
      getJobCounts: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const unregister = registerQueueDepth([ok, down]);
    const lines = await depthLines();
    expect(lines).toContain('raptorflow_queue_jobs{queue="workspace",state="waiting"} 3');
    expect(lines).toContain('raptorflow_queue_jobs{queue="workspace",state="failed"} 2');
    expect(lines.some((l) => l.includes('queue="agent"'))).toBe(false);
    unregister();
    expect((await depthLines()).filter(Boolean)).toEqual([]);
  });
});
