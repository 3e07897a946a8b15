/**
 * Group commit per key (a workspace): while a batch of a key is in flight (up to `maxInFlight` of them),
 * later submissions of that key queue, and the next batch carries all of them (in arrival order, at most
 * `maxBatch`). A caller alone is sent at once, so an idle key adds no wait; under load the batch grows by
 * itself with the queue.
 *
 * `run` answers each item of the batch with its own value or Error, so one item's refusal never fails its
 * neighbours; when `run` itself throws, that error goes to the callers of that batch only.
 */
export type BatchRun<Req, Res> = (key: string, items: Req[]) => Promise<Array<Res | Error>>;

interface Pending<Req, Res> {
  item: Req;
  resolve: (value: Res) => void;
  reject: (err: Error) => void;
}

export class KeyedBatcher<Req, Res> {
  private readonly queues = new Map<string, Array<Pending<Req, Res>>>();
  /** Batches in flight per key. */
  private readonly flying = new Map<string, number>();

  /**
   * `maxInFlight` batches of a key may run at once (1 where they would only queue on the same row lock;
   * more where they can overlap, e.g. inserts whose commits can proceed side by side).
   */
  constructor(
    private readonly run: BatchRun<Req, Res>,
    private readonly maxBatch: number,
    private readonly maxInFlight = 1,
  ) {}

  submit(key: string, item: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) this.queues.set(key, (queue = []));
      queue.push({ item, resolve, reject });
      if ((this.flying.get(key) ?? 0) < this.maxInFlight) void this.drain(key);
    });
  }

  /** One lane of a key: sends what has queued, batch after batch, until the queue is empty. */
  private async drain(key: string): Promise<void> {
    this.flying.set(key, (this.flying.get(key) ?? 0) + 1);
    try {
      for (;;) {
        const queue = this.queues.get(key);
        if (!queue || queue.length === 0) return;
        const batch = queue.splice(0, this.maxBatch);
        if (queue.length === 0) this.queues.delete(key);
        await this.flush(key, batch);
      }
    } finally {
      const n = (this.flying.get(key) ?? 1) - 1;
      if (n === 0) this.flying.delete(key);
      else this.flying.set(key, n);
    }
  }

  private async flush(key: string, batch: Array<Pending<Req, Res>>): Promise<void> {
    let results: Array<Res | Error>;
    try {
      results = await this.run(
        key,
        batch.map((p) => p.item),
      );
      if (results.length !== batch.length)
        throw new Error(`batch answered ${results.length} of ${batch.length} items`);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
  }
}
