import type { Knex } from 'knex';
import {
  ConflictError,
  ModelUnavailableError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationFailedError,
} from '@raptorflow/core/errors/app-error';
import { keysetPage } from '@raptorflow/core/validation/pagination';
import type { Keyset, KeysetPage } from '@raptorflow/core/validation/pagination';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { MEMORY_EMBEDDING_DIMENSIONS } from '@raptorflow/data/memory/memory-vector';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type {
  MemoryItemRepository,
  StoredMemoryItem,
} from '@raptorflow/data/repositories/memory-item.repository';
import type {
  MemoryFilters,
  MemoryItemView,
  MemoryKind,
} from '@raptorflow/data/repositories/memory-item.rows';
import type { EmbedResult, ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import type { EmbedTask } from '@raptorflow/llm/llm.types';
import { candidatePool, reciprocalRankFusion, searchTerms } from './memory-ranking';

/** Who reads or writes memory: a member through the API, or a Lord during a run. */
export interface MemoryActor {
  workspaceId: string;
  userId: string | null;
  agentRunId?: string | null;
  /** The Lord's key when a run acts. */
  agentKey?: string | null;
  correlationId?: string | null;
  signal?: AbortSignal;
}

export interface MemoryInput {
  agent: string | null;
  kind: MemoryKind;
  subject: string | null;
  content: string;
  metadata: Record<string, unknown>;
  validFrom: Date | null;
  sourceRunId: string | null;
}

export interface MemoryPatch {
  content?: string;
  metadata?: Record<string, unknown>;
  validFrom?: Date;
  validTo?: Date | null;
}

export interface SearchRequest {
  query: string;
  k: number;
  filters: Omit<MemoryFilters, 'subject' | 'sourceRunId'>;
}

export interface SearchHit {
  item: MemoryItemView;
  /** The fused score (reciprocal rank fusion): what the order is by. */
  score: number;
  /** Cosine similarity to the query, null when the vector side did not bring the item. */
  similarity: number | null;
  /** PostgreSQL full-text rank, null when no query word matched. */
  textRank: number | null;
}

export interface SearchResult {
  hits: SearchHit[];
  path: MemorySearchPath;
  embeddingModel: string;
}

export interface MemoryServiceOptions {
  db: Knex;
  items: MemoryItemRepository;
  dispatcher: ModelDispatcher;
  audit: AuditLogService;
  /** detectMemorySearchPath() at start-up: the HNSW index exists or not. */
  path: MemorySearchPath;
}

/** The text an item is embedded and found by: its subject says what it is about. */
const embeddedText = (subject: string | null, content: string) =>
  subject ? `${subject}\n${content}` : content;

/**
 * The Council's memory (SPEC §13): writes embed through the ModelDispatcher (budget-admitted, cost-logged
 * and audited like any model call) BEFORE the transaction that stores the items with their vectors and
 * their audit rows, so an embedding outage stores nothing; searches fuse vector similarity with full-text
 * rank by reciprocal rank fusion, on either search path.
 */
export class MemoryService {
  readonly path: MemorySearchPath;

  constructor(private readonly o: MemoryServiceOptions) {
    this.path = o.path;
  }

  async write(actor: MemoryActor, inputs: readonly MemoryInput[]): Promise<StoredMemoryItem[]> {
    if (inputs.length === 0) return [];
    const embedded = await this.embed(
      actor,
      inputs.map((i) => embeddedText(i.subject, i.content)),
      'document',
    );
    return this.o.db.transaction(async (trx) => {
      const stored = await this.o.items.insert(
        trx,
        inputs.map((i, n) => ({
          workspace_id: actor.workspaceId,
          agent: i.agent,
          kind: i.kind,
          subject: i.subject,
          content: i.content,
          metadata: i.metadata,
          embedding: embedded.vectors[n]!,
          embedding_model: embedded.embeddingModel,
          valid_from: i.validFrom,
          source_run_id: i.sourceRunId,
          created_by: actor.userId,
        })),
      );
      for (const s of stored)
        await this.audit(trx, actor, 'memory.write', s.item, {
          superseded: s.superseded,
          characters: s.item.content.length,
        });
      return stored;
    });
  }

  /** Newest first; `limit + 1` rows are read so the page knows whether there is more. */
  async list(
    workspaceId: string,
    filters: MemoryFilters,
    after: Keyset | undefined,
    limit: number,
  ): Promise<KeysetPage<MemoryItemView>> {
    const rows = await this.o.items.list(workspaceId, filters, after, limit + 1);
    return keysetPage(
      rows,
      limit,
      (r) => r,
      (r) => ({ t: r.created_at.toISOString(), id: r.id }),
    );
  }

  async get(workspaceId: string, id: string): Promise<MemoryItemView> {
    const item = await this.o.items.get(workspaceId, id);
    if (!item) throw new NotFoundError('Memory item not found');
    return item;
  }

  async search(actor: MemoryActor, req: SearchRequest): Promise<SearchResult> {
    const embedded = await this.embed(actor, [req.query], 'query');
    const pool = candidatePool(req.k);
    const [vector, text] = await Promise.all([
      this.o.items.vectorCandidates(
        this.path,
        actor.workspaceId,
        req.filters,
        embedded.embeddingModel,
        embedded.vectors[0]!,
        pool,
      ),
      this.o.items.textCandidates(actor.workspaceId, req.filters, searchTerms(req.query), pool),
    ]);
    const fused = reciprocalRankFusion([{ items: vector }, { items: text }], req.k);
    const rows = new Map(
      (
        await this.o.items.byIds(
          actor.workspaceId,
          fused.map((f) => f.id),
        )
      ).map((r) => [r.id, r]),
    );
    const similarity = new Map(vector.map((c) => [c.id, c.score]));
    const rank = new Map(text.map((c) => [c.id, c.score]));
    const hits = fused
      .filter((f) => rows.has(f.id)) // deleted between the candidate query and this one
      .map((f) => ({
        item: rows.get(f.id)!,
        score: f.score,
        similarity: similarity.get(f.id) ?? null,
        textRank: rank.get(f.id) ?? null,
      }));
    return { hits, path: this.path, embeddingModel: embedded.embeddingModel };
  }

  /** Whether anything could answer a recall, so a flow skips the embedding call when memory is empty. */
  async hasAny(workspaceId: string, filters: MemoryFilters): Promise<boolean> {
    return this.o.items.any(workspaceId, filters);
  }

  /** Content, metadata or validity; new content is embedded again before the edit commits. */
  async update(actor: MemoryActor, id: string, patch: MemoryPatch): Promise<MemoryItemView> {
    const current = await this.get(actor.workspaceId, id);
    // Refused before the embedding call: a 422 must not leave a paid embedding (and its cost row) behind.
    checkWindow(patch, current.valid_from, current.valid_to);
    const contentChanged = patch.content !== undefined && patch.content !== current.content;
    const embedded = contentChanged
      ? await this.embed(actor, [embeddedText(current.subject, patch.content!)], 'document')
      : undefined;
    try {
      return await this.o.db.transaction(async (trx) => {
        const before = await this.o.items.getForUpdate(trx, actor.workspaceId, id);
        if (!before) throw new NotFoundError('Memory item not found');
        // Again under the row lock: a concurrent edit may have moved the window since.
        checkWindow(patch, before.valid_from, before.valid_to);
        const after = await this.o.items.update(trx, actor.workspaceId, id, {
          ...(patch.content !== undefined ? { content: patch.content } : {}),
          ...(patch.metadata !== undefined ? { metadata: patch.metadata } : {}),
          ...(patch.validFrom !== undefined ? { valid_from: patch.validFrom } : {}),
          ...(patch.validTo !== undefined ? { valid_to: patch.validTo } : {}),
          ...(embedded ? { embedding: embedded.vectors[0]!, embedding_model: embedded.embeddingModel } : {}),
        });
        await this.audit(trx, actor, 'memory.update', after, {
          fields: Object.keys(patch).sort(),
          re_embedded: Boolean(embedded),
        });
        return after;
      });
    } catch (err) {
      // The one current item per subject: reopening an old version while a newer one is current.
      if ((err as { code?: string }).code === '23505')
        throw new ConflictError('Another item on this subject is current; close it first', {
          subject: current.subject,
        });
      throw err;
    }
  }

  async delete(actor: MemoryActor, id: string): Promise<void> {
    await this.o.db.transaction(async (trx) => {
      const deleted = await this.o.items.delete(trx, actor.workspaceId, id);
      if (!deleted) throw new NotFoundError('Memory item not found');
      await this.audit(trx, actor, 'memory.delete', deleted, {});
    });
  }

  /** Forgets everything one run stored; the number of items deleted. */
  async forgetRun(actor: MemoryActor, runId: string): Promise<number> {
    return this.o.db.transaction(async (trx) => {
      const ids = await this.o.items.deleteBySourceRun(trx, actor.workspaceId, runId);
      await this.o.audit.record(
        {
          action: 'memory.forget_run',
          workspaceId: actor.workspaceId,
          actorId: actor.userId,
          resourceType: 'agent_run',
          resourceId: runId,
          output: { deleted: ids.length, ids: ids.slice(0, 100) },
          correlationId: actor.correlationId ?? undefined,
        },
        trx,
      );
      return ids.length;
    });
  }

  private async embed(actor: MemoryActor, texts: string[], task: EmbedTask): Promise<EmbedResult> {
    try {
      return await this.o.dispatcher.embed(
        { texts, dimensions: MEMORY_EMBEDDING_DIMENSIONS, task },
        {
          workspaceId: actor.workspaceId,
          actorUserId: actor.userId,
          agentRunId: actor.agentRunId ?? null,
          // Undefined lets the request/job context supply it.
          correlationId: actor.correlationId ?? undefined,
          signal: actor.signal,
        },
      );
    } catch (err) {
      if (err instanceof ModelUnavailableError)
        throw new ServiceUnavailableError(
          `The embedding model is unavailable (${err.message}); nothing was stored or searched`,
          10,
        );
      throw err;
    }
  }

  private async audit(
    trx: Knex.Transaction,
    actor: MemoryActor,
    action: string,
    item: MemoryItemView,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    await this.o.audit.record(
      {
        action,
        workspaceId: actor.workspaceId,
        actorType: actor.agentRunId ? 'agent' : actor.userId ? 'user' : 'system',
        actorId: actor.agentRunId ? (actor.agentKey ?? actor.agentRunId) : actor.userId,
        agentRunId: actor.agentRunId ?? undefined,
        resourceType: 'memory_item',
        resourceId: item.id,
        input: {
          kind: item.kind,
          agent: item.agent,
          subject: item.subject,
          source_run_id: item.source_run_id,
        },
        metadata,
        correlationId: actor.correlationId ?? undefined,
      },
      trx,
    );
  }
}

/** valid_to, as patched, must not be before valid_from, as patched (422 naming body.valid_to). */
function checkWindow(patch: MemoryPatch, from: Date, to: Date | null): void {
  const validFrom = patch.validFrom ?? from;
  const validTo = patch.validTo !== undefined ? patch.validTo : to;
  if (validTo !== null && validTo < validFrom) {
    const message = 'valid_to must not be before valid_from';
    throw new ValidationFailedError(message, [{ path: 'body.valid_to', message }]);
  }
}
