import { RequestRateLimiter } from './request-rate-limiter';
import { backoffMs } from './retry-policy';

describe('RequestRateLimiter', () => {
  it('lets a second of burst through, then paces at the rate', async () => {
    let now = 10_000;
    const limiter = new RequestRateLimiter(10, () => now);
    const started: number[] = [];
    for (let i = 0; i < 10; i++) {
      await limiter.acquire();
      started.push(now);
    }
    expect(started.every((t) => t === 10_000)).toBe(true);
    // The 11th waits for its slot: 100 ms after the burst's start at this rate.
    const t0 = Date.now();
    now = 10_000;
    const real = new RequestRateLimiter(20);
    for (let i = 0; i < 20; i++) await real.acquire();
    await real.acquire();
    await real.acquire();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
  });

  it('is a no-op at rate 0 (unlimited): never waits on a timer, whatever the clock says', async () => {
    // With fake timers a limiter that waited would never resume; a frozen clock means no slot ever frees up.
    jest.useFakeTimers();
    try {
      const limiter = new RequestRateLimiter(0, () => 10_000);
      for (let i = 0; i < 1000; i++) await limiter.acquire();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops waiting when the signal fires', async () => {
    const limiter = new RequestRateLimiter(1);
    await limiter.acquire();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20);
    await expect(limiter.acquire(abort.signal)).rejects.toThrow('aborted');
  });
});

describe('backoffMs', () => {
  it('grows exponentially under a cap, with full jitter', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 500, 3_000, () => 1))).toEqual([
      500, 1000, 2000, 3000, 3000,
    ]);
    expect(backoffMs(3, 500, 3_000, () => 0)).toBe(0);
  });
});
