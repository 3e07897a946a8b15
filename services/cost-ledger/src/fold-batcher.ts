/** What a batch run hands back for each of its items, in order: a result, or the error of that item alone. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface FoldBatcherOptions<I, R> {
  /** Runs one batch; resolves with one outcome per item, in order (rejecting fails every item of it). */
  run: (items: I[]) => Promise<Array<ItemOutcome<R>>>;
  /** At most this many items per batch (bounds one statement's arrays). */
  maxBatch: number;
  /** At most this many batches running at once. */
  maxInFlight: number;
}

interface Waiter<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers submit one item each and get its own promise back; the items that arrive while a batch
 * is running wait and go together in the next one. Nothing waits on a timer: a batch starts as soon as a slot
 * is free (after the current turn of the event loop, so the submissions of one tick share it), so under light
 * load a batch is one item and its latency that of a single fold, and under load batches grow by themselves to
 * what arrived during the previous one. A caller's promise settles only when its batch has settled.
 */
export class FoldBatcher<I, R> {
  private readonly pending: Array<Waiter<I, R>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly opts: FoldBatcherOptions<I, R>) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.opts.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async runBatch(batch: Array<Waiter<I, R>>): Promise<void> {
    try {
      const outcomes = await this.opts.run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (!o) w.reject(new Error('fold batch returned no outcome for this item'));
        else if (o.ok) w.resolve(o.value);
        else w.reject(o.error);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
