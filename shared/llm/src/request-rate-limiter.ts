import { sleep } from './retry-policy';

/**
 * Paces requests to one provider at `perSecond`, allowing a burst of one second's worth. Each caller is given
 * the next free slot up front, so waiters are served in arrival order and never spin. Per process: N
 * dispatching processes together send at most N × perSecond (set the rate accordingly).
 */
export class RequestRateLimiter {
  private nextSlotAt = 0;
  private readonly intervalMs: number;
  private readonly burstMs: number;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.burstMs = perSecond > 0 ? Math.max(0, 1000 - this.intervalMs) : 0;
  }

  /** Waits for a slot; rejects with AbortedError if the signal fires first (the slot is then wasted). */
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = this.now();
    const slot = Math.max(this.nextSlotAt, now - this.burstMs);
    this.nextSlotAt = slot + this.intervalMs;
    const wait = slot - now;
    if (wait > 0) await sleep(wait, signal);
  }
}
