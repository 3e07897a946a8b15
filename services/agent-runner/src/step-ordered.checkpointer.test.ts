import { MemorySaver } from '@langchain/langgraph';
import { emptyCheckpoint } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { StepOrderedCheckpointer } from './step-ordered.checkpointer';

/** A barrier the test opens or breaks by hand. */
function barrier() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  promise.catch(() => undefined);
  return { promise, open, fail };
}

const config = (thread: string): RunnableConfig => ({
  configurable: { thread_id: thread, checkpoint_ns: '' },
});
const metadata = { source: 'loop' as const, step: 1, parents: {} };

it('writes a checkpoint and pending writes only once the steps before them have ended', async () => {
  const inner = new MemorySaver();
  const gate = barrier();
  const seen: RunnableConfig[] = [];
  const saver = new StepOrderedCheckpointer(inner, (c) => {
    seen.push(c);
    return gate.promise;
  });
  let written = false;
  const put = saver.put(config('run-1'), emptyCheckpoint(), metadata, {}).then((c) => {
    written = true;
    return c;
  });
  await new Promise((r) => setImmediate(r));
  expect(written).toBe(false);
  expect(await inner.getTuple(config('run-1'))).toBeUndefined();
  gate.open();
  const stored = await put;
  expect(written).toBe(true);
  expect((await saver.getTuple(stored))?.checkpoint.id).toBe(stored.configurable?.checkpoint_id);
  await saver.putWrites(stored, [['channel', 'value']], 'task-1');
  expect((await inner.getTuple(stored))?.pendingWrites).toEqual([['task-1', 'channel', 'value']]);
  // The barrier is asked with the checkpoint's own config: it finds the invocation's step runner there.
  expect(seen[0]?.configurable?.thread_id).toBe('run-1');
});

it('writes nothing past a step whose end failed, and the write fails with that error', async () => {
  const inner = new MemorySaver();
  const gate = barrier();
  const saver = new StepOrderedCheckpointer(inner, () => gate.promise);
  const put = saver.put(config('run-2'), emptyCheckpoint(), metadata, {});
  const writes = saver.putWrites(
    { configurable: { thread_id: 'run-2', checkpoint_ns: '', checkpoint_id: 'x' } },
    [['c', 1]],
    'task-1',
  );
  gate.fail(new Error('lease lost'));
  await expect(put).rejects.toThrow('lease lost');
  await expect(writes).rejects.toThrow('lease lost');
  expect(await inner.getTuple(config('run-2'))).toBeUndefined();
});
