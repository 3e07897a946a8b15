/** What a batch run hands back for each of its items, in order: a result, or the error of that item alone. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export const succeeded = <R>(value: R): ItemOutcome<R> => ({ ok: true, value });
export const failed = (error: unknown): ItemOutcome<never> => ({ ok: false, error });

/**
 * When an idle batcher sends what it was given: 'end-of-turn' (the default) waits for the end of the current
 * event-loop turn (setImmediate), so the submissions of that turn share one batch; 'at-once' sends a lone
 * submission inside submit() itself (no hop of latency), later ones queueing behind it while no slot is free.
 */
export type GroupCommitStart = 'end-of-turn' | 'at-once';

export interface GroupCommitOptions<I, R> {
  /** Runs one batch: one outcome per item, in order. Throwing (or rejecting) fails every item of that batch. */
  run: (items: I[]) => Promise<Array<ItemOutcome<R>>>;
  /** At most this many items per batch (bounds one statement's arrays). */
  maxBatch: number;
  /** At most this many batches running at once; items arriving while all are busy queue for the next. */
  maxInFlight: number;
  start?: GroupCommitStart;
}

interface Waiter<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: each caller submits one item and gets a promise of its own result; the items queued while all
 * batch slots are busy go together in the next batch (arrival order, at most `maxBatch`). Nothing waits on a
 * timer: a batch starts as soon as a slot is free, so under light load a batch is one item with the latency of
 * a lone statement, and under load batches grow by themselves to what arrived during the previous one. A
 * caller's promise settles only when its batch has: with a committing `run`, a caller resumes after its
 * effect is durable, as with one statement per caller. A slot freed by a settled batch starts the next batch
 * at once (those items already waited at least a turn).
 */
export class GroupCommit<I, R> {
  private readonly pending: Array<Waiter<I, R>> = [];
  private inFlight = 0;
  private scheduled = false;

  /** `onIdle` is told each time the last batch settles with nothing queued (the keyed variant drops the key). */
  constructor(
    private readonly opts: GroupCommitOptions<I, R>,
    private readonly onIdle?: () => void,
  ) {
    if (!(opts.maxBatch >= 1) || !(opts.maxInFlight >= 1))
      throw new Error('group commit: maxBatch and maxInFlight must be at least 1');
  }

  /** Nothing queued and no batch running. */
  get idle(): boolean {
    return this.inFlight === 0 && this.pending.length === 0;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.inFlight >= this.opts.maxInFlight) return; // the batch that frees a slot takes it
      if (this.opts.start === 'at-once') this.pump();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Starts batches of the queued items while a slot is free. */
  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: Array<Waiter<I, R>>): Promise<void> {
    try {
      const outcomes = await this.opts.run(batch.map((w) => w.item));
      // A run that miscounts is a bug in it: no item can be trusted to its neighbour's answer.
      if (outcomes.length !== batch.length)
        throw new Error(`group commit: batch answered ${outcomes.length} of ${batch.length} items`);
      batch.forEach((w, i) => {
        const o = outcomes[i]!;
        if (o.ok) w.resolve(o.value);
        else w.reject(o.error);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
    this.inFlight--;
    this.pump();
    if (this.idle) this.onIdle?.();
  }
}

export interface KeyedGroupCommitOptions<I, R> extends Omit<GroupCommitOptions<I, R>, 'run'> {
  /** Runs one batch of one key; `maxBatch` and `maxInFlight` hold per key. */
  run: (key: string, items: I[]) => Promise<Array<ItemOutcome<R>>>;
}

/**
 * Group commit per key (a workspace, say): each key has its own queue and batch slots, so one key's load never
 * delays another's batch and a batch only ever holds items of one key. A key's queue exists only while it
 * has items queued or running: an idle key is dropped from the map, which stays as large as the live keys.
 */
export class KeyedGroupCommit<I, R> {
  private readonly lanes = new Map<string, GroupCommit<I, R>>();

  constructor(private readonly opts: KeyedGroupCommitOptions<I, R>) {
    if (!(opts.maxBatch >= 1) || !(opts.maxInFlight >= 1))
      throw new Error('group commit: maxBatch and maxInFlight must be at least 1');
  }

  /** Keys with items queued or running. */
  get activeKeys(): number {
    return this.lanes.size;
  }

  submit(key: string, item: I): Promise<R> {
    let lane = this.lanes.get(key);
    if (!lane) {
      const { run, ...limits } = this.opts;
      const created = new GroupCommit<I, R>({ ...limits, run: (items) => run(key, items) }, () => {
        if (this.lanes.get(key) === created) this.lanes.delete(key);
      });
      this.lanes.set(key, (lane = created));
    }
    return lane.submit(item);
  }
}
