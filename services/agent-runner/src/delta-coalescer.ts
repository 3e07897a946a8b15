/** At most one `step.delta` per this many milliseconds per call: tokens arrive far faster than anyone reads. */
export const DELTA_MIN_GAP_MS = 50;

/**
 * Gathers a streamed answer's pieces and hands them on at most every `minGapMs`, so a model that streams a
 * token at a time costs one Redis message (and one SSE frame per client) per gap, not one per token.
 */
export class DeltaCoalescer {
  private pending = '';
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publish: (text: string) => void,
    private readonly minGapMs = DELTA_MIN_GAP_MS,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.pending += text;
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.minGapMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /**
   * Sends what is left, keeping the gap even for the last piece, so every delta is out before the caller
   * records the step's completion.
   */
  async finish(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const wait = this.last + this.minGapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.flush();
  }

  /** Drops what is pending (the call failed: its text is not worth sending). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.last = Date.now();
    this.publish(text);
  }
}
