import { FoldBatcher } from './fold-batcher';
import type { ItemOutcome } from './fold-batcher';

/** A batcher whose batches are recorded and released by hand, so a test sees exactly what went together. */
function manual(maxBatch = 100, maxInFlight = 1) {
  const batches: number[][] = [];
  const release: Array<(o: Array<ItemOutcome<string>> | Error) => void> = [];
  const batcher = new FoldBatcher<number, string>({
    maxBatch,
    maxInFlight,
    run: (items) =>
      new Promise((resolve, reject) => {
        batches.push(items);
        release.push((o) => (o instanceof Error ? reject(o) : resolve(o)));
      }),
  });
  return { batcher, batches, release };
}

const ok = (items: number[]) => items.map((i) => ({ ok: true as const, value: `r${i}` }));
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

it('submissions of one tick share a batch; those made while it runs share the next', async () => {
  const { batcher, batches, release } = manual();
  const first = [1, 2, 3].map((i) => batcher.submit(i));
  await until(() => batches.length === 1);
  const second = [4, 5].map((i) => batcher.submit(i));
  await new Promise((r) => setImmediate(r));
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
  release[1]!(ok([3, 4]));
  await until(() => batches.length === 3);
  expect(batches[2]).toEqual([5]);
  release[0]!(ok([1, 2]));
  release[2]!(ok([5]));
  expect(await Promise.all(all)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
});

it('settles each item with its own outcome, and fails every item of a batch that fails as a whole', async () => {
  const { batcher, batches, release } = manual();
  const a = [1, 2].map((i) => batcher.submit(i));
  await until(() => batches.length === 1);
  release[0]!([
    { ok: true, value: 'r1' },
    { ok: false, error: new Error('bad 2') },
  ]);
  await expect(a[0]).resolves.toBe('r1');
  await expect(a[1]).rejects.toThrow('bad 2');

  const b = [3, 4].map((i) => batcher.submit(i));
  await until(() => batches.length === 2);
  release[1]!(new Error('database down'));
  await expect(Promise.all(b.map((p) => p.catch((e: Error) => e.message)))).resolves.toEqual([
    'database down',
    'database down',
  ]);
});
