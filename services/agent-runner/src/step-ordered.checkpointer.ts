import type { RunnableConfig } from '@langchain/core/runnables';
import { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type {
  ChannelVersions,
  Checkpoint,
  CheckpointListOptions,
  CheckpointMetadata,
  CheckpointTuple,
  PendingWrite,
} from '@langchain/langgraph-checkpoint';

/**
 * The step writes of the invocation a checkpoint belongs to (found from its config) that must be committed
 * before LangGraph records progress past them; rejects when one of them failed (a lost lease, the database),
 * and then nothing is recorded past it either.
 */
export type StepBarrier = (config: RunnableConfig) => Promise<void>;

/**
 * A checkpointer that writes a checkpoint, or a node's pending writes, only once the steps that ended before
 * it are committed. A step returns its output to the flow while its end (row, audit rows, step.completed) is
 * still being written (RunSteps), and LangGraph checkpoints in the background while the next node runs
 * (durability "async"): without this order a crash could leave a checkpoint past a step whose row never
 * completed, and a resumed run would go on from there with that step forever running. Neither waits on the
 * other's path: the checkpoint write waits, the next node does not.
 */
export class StepOrderedCheckpointer extends BaseCheckpointSaver {
  constructor(
    private readonly inner: BaseCheckpointSaver,
    private readonly barrier: StepBarrier,
  ) {
    super(inner.serde);
  }

  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return this.inner.getTuple(config);
  }

  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    return this.inner.list(config, options);
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    await this.barrier(config);
    return this.inner.put(config, checkpoint, metadata, newVersions);
  }

  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    await this.barrier(config);
    return this.inner.putWrites(config, writes, taskId, taskPath);
  }

  deleteThread(threadId: string): Promise<void> {
    return this.inner.deleteThread(threadId);
  }

  override getNextVersion(current: number | undefined): number {
    return this.inner.getNextVersion(current);
  }
}
