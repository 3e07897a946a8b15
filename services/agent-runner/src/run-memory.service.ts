import { BudgetExceededError, ServiceUnavailableError } from '@raptorflow/core/errors/app-error';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import type { MemoryFilters, MemoryItemView } from '@raptorflow/data/repositories/memory-item.rows';
import type { MemoryActor, MemoryInput, MemoryService } from '@raptorflow/memory/memory.service';
import type {
  MemorySkip,
  RecallRequest,
  RecallResult,
  RememberItem,
  RememberResult,
} from './flows/flow.types';

/** The actor every memory call of a run acts as: the run's workspace, requester and Lord. */
export interface RunActor extends MemoryActor {
  agentRunId: string;
  agentKey: string;
}

/** A memory call's answer, and whether it made an embedding call (so the step knows to count its cost). */
export interface MemoryOutcome<T> {
  result: T;
  /** `provider:model` of the embedding call made, null when none was made (or it failed). */
  embeddingModel: string | null;
  embedded: boolean;
}

export interface RunMemoryOptions {
  memory: MemoryService;
  items: MemoryItemRepository;
}

/**
 * A query is about the gist: gemini-embedding-001 reads at most 2,048 tokens, full-text search the first 32
 * words, and a guardian's content may be 50,000 characters. Cutting it keeps recall cheap and inside limits.
 */
export const MAX_QUERY_CHARS = 2_000;

const EMPTY: MemorySkip = {
  code: 'memory_empty',
  message: 'No current memory item could answer; no embedding call was made',
};

/**
 * The runner's side of the Council's memory (what a StepScope's recall and remember do): the defaults a
 * Lord reads with, the embedding call skipped when nothing could answer, outages and exhausted budgets
 * absorbed so memory never ends a run, and a write a resumed step does not repeat.
 */
export class RunMemory {
  readonly path: MemorySearchPath;

  constructor(private readonly o: RunMemoryOptions) {
    this.path = o.memory.path;
  }

  async recall(actor: RunActor, req: RecallRequest): Promise<MemoryOutcome<RecallResult>> {
    const filters: MemoryFilters = {
      kinds: req.kinds,
      ...(req.agents === 'any' ? {} : { agents: req.agents ?? [actor.agentKey, null] }),
      asOf: new Date(),
    };
    // An empty memory answers nothing: asking costs an embedding call, checking costs one indexed query.
    if (!(await this.o.memory.hasAny(actor.workspaceId, filters)))
      return { result: { items: [], skipped: EMPTY }, embeddingModel: null, embedded: false };
    try {
      const r = await this.o.memory.search(actor, {
        query: req.query.slice(0, MAX_QUERY_CHARS),
        k: req.k,
        filters,
      });
      const items = r.hits.map((h) => ({
        id: h.item.id,
        kind: h.item.kind,
        score: h.score,
        similarity: h.similarity,
        content: h.item.content,
      }));
      return { result: { items, skipped: null }, embeddingModel: r.embeddingModel, embedded: true };
    } catch (err) {
      const skipped = absorbed(err, actor.signal);
      return { result: { items: [], skipped }, embeddingModel: null, embedded: true };
    }
  }

  /** `stepKey` marks the items (metadata.run_step) so a repeated step finds what it stored before. */
  async remember(
    actor: RunActor,
    stepKey: string,
    items: readonly RememberItem[],
  ): Promise<MemoryOutcome<RememberResult>> {
    const none = { embeddingModel: null, embedded: false };
    if (items.length === 0) return { result: { ids: [], skipped: null }, ...none };
    const inputs: MemoryInput[] = items.map((i) => ({
      agent: i.agent === undefined ? actor.agentKey : i.agent,
      kind: i.kind,
      subject: i.subject,
      content: i.content,
      metadata: { ...i.metadata, run_step: stepKey },
      validFrom: null,
      sourceRunId: actor.agentRunId,
    }));
    // The write commits before the step is marked complete: a runner killed between the two repeats the
    // step on resume, and must find its items instead of storing them again.
    const earlier = await this.storedBefore(actor, stepKey, inputs);
    if (earlier) return { result: { ids: earlier, skipped: null }, ...none };
    try {
      const stored = await this.o.memory.write(actor, inputs);
      return {
        result: { ids: stored.map((s) => s.item.id), skipped: null },
        embeddingModel: stored[0]?.item.embedding_model ?? null,
        embedded: true,
      };
    } catch (err) {
      return {
        result: { ids: [], skipped: absorbed(err, actor.signal) },
        embeddingModel: null,
        embedded: true,
      };
    }
  }

  /** The ids of this step's earlier write, in input order; undefined when it stored nothing yet. */
  private async storedBefore(
    actor: RunActor,
    stepKey: string,
    inputs: readonly MemoryInput[],
  ): Promise<string[] | undefined> {
    const filters = { sourceRunId: actor.agentRunId, metadata: { run_step: stepKey } };
    // Every version, superseded ones included: a batch may close its own earlier item on the same subject.
    const rows = await this.o.items.list(actor.workspaceId, filters, undefined, inputs.length + 1);
    if (rows.length === 0) return undefined;
    const unused = new Set<MemoryItemView>(rows);
    const ids: string[] = [];
    for (const input of inputs) {
      const row = [...unused].find(
        (r) =>
          r.kind === input.kind &&
          r.subject === input.subject &&
          r.content === input.content &&
          r.agent === input.agent,
      );
      if (!row) continue;
      unused.delete(row);
      ids.push(row.id);
    }
    return ids;
  }
}

/**
 * The failures memory absorbs: the embedding model down (503) and the workspace's budget spent (402; the
 * run's next model call meets the same budget and ends the run honestly there). Anything else, and any
 * failure of a cancelled run, propagates.
 */
function absorbed(err: unknown, signal: AbortSignal | undefined): MemorySkip {
  if (signal?.aborted) throw err;
  if (err instanceof ServiceUnavailableError || err instanceof BudgetExceededError)
    return { code: err.code, message: err.message };
  throw err;
}
