import { GroupCommit, KeyedGroupCommit, failed, succeeded } from './group-commit';
import type { GroupCommitStart, ItemOutcome } from './group-commit';

type Release = (o: Array<ItemOutcome<string>> | Error) => void;

/** Batches are recorded and released by hand, so a test sees exactly what went together and when. */
function manual(maxBatch = 100, maxInFlight = 1, start?: GroupCommitStart) {
  const batches: number[][] = [];
  const release: Release[] = [];
  const batcher = new GroupCommit<number, string>({
    maxBatch,
    maxInFlight,
    start,
    run: (items) =>
      new Promise((resolve, reject) => {
        batches.push(items);
        release.push((o) => (o instanceof Error ? reject(o) : resolve(o)));
      }),
  });
  return { batcher, batches, release };
}

const ok = (items: number[]) => items.map((i) => succeeded(`r${i}`));
const turn = () => new Promise((r) => setImmediate(r));
const until = async (cond: () => boolean) => {
  while (!cond()) await turn();
};

describe('GroupCommit', () => {
  it('submissions of one turn share a batch in arrival order; those made while it runs share the next', async () => {
    const { batcher, batches, release } = manual();
    const first = [1, 2, 3].map((i) => batcher.submit(i));
    expect(batches).toEqual([]); // nothing sent before the end of the turn
    await until(() => batches.length === 1);
    const second = [4, 5].map((i) => batcher.submit(i));
    await turn();
    expect(batches).toEqual([[1, 2, 3]]); // one batch in flight at a time
    release[0]!(ok([1, 2, 3]));
    expect(await Promise.all(first)).toEqual(['r1', 'r2', 'r3']);
    await until(() => batches.length === 2);
    expect(batches[1]).toEqual([4, 5]);
    release[1]!(ok([4, 5]));
    expect(await Promise.all(second)).toEqual(['r4', 'r5']);
  });

  it('caps a batch at maxBatch and runs up to maxInFlight batches at once', async () => {
    const { batcher, batches, release } = manual(2, 2);
    const all = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    await until(() => batches.length === 2);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await turn();
    expect(batches).toHaveLength(2); // both slots busy: 5 waits
    release[1]!(ok([3, 4]));
    await until(() => batches.length === 3);
    expect(batches[2]).toEqual([5]);
    release[0]!(ok([1, 2]));
    release[2]!(ok([5]));
    expect(await Promise.all(all)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it("settles each item with its own outcome; a thrown run fails only that batch's callers", async () => {
    const { batcher, batches, release } = manual(100, 2);
    const a = [1, 2].map((i) => batcher.submit(i));
    await until(() => batches.length === 1);
    const b = [3, 4].map((i) => batcher.submit(i));
    await until(() => batches.length === 2);
    release[0]!([succeeded('r1'), failed(new Error('bad 2'))]);
    await expect(a[0]).resolves.toBe('r1');
    await expect(a[1]).rejects.toThrow('bad 2');
    release[1]!(new Error('database down'));
    await expect(Promise.all(b.map((p) => p.catch((e: Error) => e.message)))).resolves.toEqual([
      'database down',
      'database down',
    ]);
    // The batcher goes on: a later batch is unaffected.
    const c = batcher.submit(5);
    await until(() => batches.length === 3);
    release[2]!(ok([5]));
    await expect(c).resolves.toBe('r5');
  });

  it('fails the whole batch when the run answers a different number of items', async () => {
    const { batcher, batches, release } = manual();
    const a = [1, 2].map((i) => batcher.submit(i));
    await until(() => batches.length === 1);
    release[0]!(ok([1]));
    for (const p of a) await expect(p).rejects.toThrow('answered 1 of 2');
  });

  it("'at-once' sends a lone submission within submit; later ones queue behind it", async () => {
    const { batcher, batches, release } = manual(100, 1, 'at-once');
    const first = batcher.submit(1);
    expect(batches).toEqual([[1]]);
    const rest = [2, 3].map((i) => batcher.submit(i));
    expect(batches).toHaveLength(1);
    release[0]!(ok([1]));
    await until(() => batches.length === 2);
    expect(batches[1]).toEqual([2, 3]);
    release[1]!(ok([2, 3]));
    expect(await Promise.all([first, ...rest])).toEqual(['r1', 'r2', 'r3']);
  });

  it('under concurrent callers: every caller its own result, batches grow, maxInFlight never exceeded', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const batcher = new GroupCommit<number, number>({
      maxBatch: 16,
      maxInFlight: 3,
      run: async (items) => {
        running++;
        peak = Math.max(peak, running);
        sizes.push(items.length);
        for (let i = 0; i < 3; i++) await turn(); // a statement taking a few turns
        running--;
        return items.map((n) => (n % 7 === 0 ? failed(new Error(`no ${n}`)) : succeeded(n * 10)));
      },
    });
    // 200 callers, each arriving after its own number of turns, as concurrent jobs would.
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, async (_, n) => {
        for (let i = 0; i < n % 5; i++) await turn();
        return batcher.submit(n);
      }),
    );
    results.forEach((r, n) => {
      if (n % 7 === 0) expect(r).toEqual({ status: 'rejected', reason: new Error(`no ${n}`) });
      else expect(r).toEqual({ status: 'fulfilled', value: n * 10 });
    });
    expect(peak).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(sizes.length).toBeLessThan(200); // they did share batches
    expect(batcher.idle).toBe(true);
  });
});

describe('KeyedGroupCommit', () => {
  function keyed(start?: GroupCommitStart) {
    const batches: Array<{ key: string; items: number[] }> = [];
    const release: Release[] = [];
    const batcher = new KeyedGroupCommit<number, string>({
      maxBatch: 100,
      maxInFlight: 1,
      start,
      run: (key, items) =>
        new Promise((resolve, reject) => {
          batches.push({ key, items });
          release.push((o) => (o instanceof Error ? reject(o) : resolve(o)));
        }),
    });
    return { batcher, batches, release };
  }

  it("keeps keys apart: one key's busy batch neither delays nor joins another key's", async () => {
    const { batcher, batches, release } = keyed();
    const a1 = batcher.submit('a', 1);
    const b2 = batcher.submit('b', 2);
    const a3 = batcher.submit('a', 3);
    await until(() => batches.length === 2);
    expect(batches).toEqual([
      { key: 'a', items: [1, 3] },
      { key: 'b', items: [2] },
    ]);
    const a4 = batcher.submit('a', 4); // a is busy: queues
    const b5 = batcher.submit('b', 5); // so is b
    release[1]!(ok([2])); // b settles first; a is still running
    await until(() => batches.length === 3);
    expect(batches[2]).toEqual({ key: 'b', items: [5] });
    release[2]!(new Error('b failed'));
    await expect(b5).rejects.toThrow('b failed');
    release[0]!(ok([1, 3]));
    await until(() => batches.length === 4);
    expect(batches[3]).toEqual({ key: 'a', items: [4] });
    release[3]!(ok([4]));
    expect(await Promise.all([a1, b2, a3, a4])).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('drops a key once it is idle, after a success or a thrown run, and recreates it on demand', async () => {
    const { batcher, batches, release } = keyed('at-once');
    const a = batcher.submit('a', 1);
    const b = batcher.submit('b', 2);
    expect(batcher.activeKeys).toBe(2);
    release[0]!(ok([1]));
    await a;
    await until(() => batcher.activeKeys === 1);
    release[1]!(new Error('down'));
    await expect(b).rejects.toThrow('down');
    await until(() => batcher.activeKeys === 0);
    const again = batcher.submit('a', 3);
    expect(batcher.activeKeys).toBe(1);
    expect(batches[2]).toEqual({ key: 'a', items: [3] });
    release[2]!(ok([3]));
    await expect(again).resolves.toBe('r3');
    await until(() => batcher.activeKeys === 0);
  });

  it('keeps a key while items of it are still queued behind a running batch', async () => {
    const { batcher, batches, release } = keyed('at-once');
    const first = batcher.submit('a', 1);
    const second = batcher.submit('a', 2);
    release[0]!(ok([1]));
    await first;
    expect(batcher.activeKeys).toBe(1); // 2 is now running
    await until(() => batches.length === 2);
    release[1]!(ok([2]));
    await second;
    await until(() => batcher.activeKeys === 0);
  });
});
