import type { Settings } from '@raptorflow/core/config/settings';
import type { WorkerTuning } from './worker-runtime';

export type WorkerService = 'agentRunner' | 'seeder' | 'costLedger';

/**
 * Concurrency, rate limit and stalled-job settings of one worker service, from configuration. A job whose
 * worker dies keeps its lock for lockDurationMs; the stalled check (every stalledIntervalMs) then hands it to
 * another worker, at most maxStalledCount times before it fails for good.
 */
export function workerOptionsFor(service: WorkerService, settings: Settings): WorkerTuning {
  const perSecond = settings.workerRateLimits[service];
  return {
    concurrency: settings.concurrency[service],
    ...(perSecond > 0 ? { limiter: { max: perSecond, duration: 1_000 } } : {}),
    workerOptions: {
      lockDuration: settings.workerLocks.lockDurationMs,
      stalledInterval: settings.workerLocks.stalledIntervalMs,
      maxStalledCount: settings.workerLocks.maxStalledCount,
    },
  };
}
