/**
 * Group commit per key (a workspace): while one batch of a key is in flight, later submissions of that key
 * queue, and the next batch carries all of them (in arrival order, at most `maxBatch`). A caller alone is
 * sent at once, so an idle key adds no wait; under load the batch grows by itself with the queue.
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
  private readonly busy = new Set<string>();

  constructor(
    private readonly run: BatchRun<Req, Res>,
    private readonly maxBatch: number,
  ) {}

  submit(key: string, item: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) this.queues.set(key, (queue = []));
      queue.push({ item, resolve, reject });
      if (!this.busy.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.busy.add(key);
    try {
      for (;;) {
        const queue = this.queues.get(key);
        if (!queue || queue.length === 0) {
          this.queues.delete(key);
          return;
        }
        const batch = queue.splice(0, this.maxBatch);
        await this.flush(key, batch);
      }
    } finally {
      this.busy.delete(key);
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
