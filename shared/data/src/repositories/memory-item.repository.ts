import type { Knex } from 'knex';
import { MEMORY_EMBEDDING_DIMENSIONS, MEMORY_VECTOR_EXPRESSION } from '../memory/memory-vector';
import type { MemorySearchPath } from '../memory/memory-vector';
import { dotWithBinaryArray, roundScore, topCandidates, vectorLiteral } from '../memory/memory-vector-math';
import { orderByKeyset } from './keyset';
import type { KeysetPosition } from './keyset';
import type { Candidate } from '../memory/memory-vector-math';
import type { MemoryFilters, MemoryItemRow, MemoryItemView, NewMemoryItem } from './memory-item.rows';

/** Vectors read per round trip by the exact scan (≈ 6 KiB each in binary form). */
const EXACT_SCAN_PAGE = 2_000;

const VIEW_COLUMNS = [
  'id',
  'workspace_id',
  'agent',
  'kind',
  'subject',
  'content',
  'metadata',
  'embedding_model',
  'valid_from',
  'valid_to',
  'source_run_id',
  'created_by',
  'created_at',
  'updated_at',
] as const;

export type { Candidate } from '../memory/memory-vector-math';

export interface StoredMemoryItem {
  item: MemoryItemView;
  /** The item this one closed (same subject, now with `valid_to` = this one's `valid_from`). */
  superseded: string | null;
}

export type MemoryItemPatch = Partial<
  Pick<MemoryItemRow, 'content' | 'metadata' | 'valid_from' | 'valid_to' | 'embedding' | 'embedding_model'>
>;

/**
 * All SQL of `memory_items`. Searching has two paths with one contract: `vectorCandidates` asks pgvector's
 * HNSW index where it exists and scans the workspace's vectors exactly where it does not; `textCandidates`
 * is PostgreSQL full text on both. Fusing the two lists is the caller's (memory.service.ts).
 */
export class MemoryItemRepository {
  private readonly exactScanPage: number;

  /** `exactScanPage`: vectors per round trip of the exact scan (tests make it small to cross pages). */
  constructor(
    private readonly db: Knex,
    opts: { exactScanPage?: number } = {},
  ) {
    this.exactScanPage = opts.exactScanPage ?? EXACT_SCAN_PAGE;
  }

  /**
   * Inserts in order, in `trx`. An item with a subject supersedes the open item on the same subject of the
   * same Lord (or of the Council): the older one's validity ends where the newer one's begins. A backdated
   * item (valid before the open one) is history filled in: it ends where the open one begins.
   */
  async insert(trx: Knex.Transaction, items: readonly NewMemoryItem[]): Promise<StoredMemoryItem[]> {
    const out: StoredMemoryItem[] = [];
    for (const it of items) {
      const validFrom = it.valid_from ?? new Date();
      let validTo: Date | null = null;
      let superseded: string | null = null;
      if (it.subject !== null) {
        // Two writers on one subject queue here instead of both closing the same item.
        await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(?))`, [
          `memory:${it.workspace_id}:${it.agent ?? ''}:${it.subject}`,
        ]);
        const open = await trx('memory_items')
          .where({ workspace_id: it.workspace_id, subject: it.subject })
          .whereRaw(`coalesce(agent, '') = ?`, [it.agent ?? ''])
          .whereNull('valid_to')
          .first<Pick<MemoryItemRow, 'id' | 'valid_from'> | undefined>('id', 'valid_from');
        if (open && open.valid_from <= validFrom) {
          await trx('memory_items')
            .where({ id: open.id })
            .update({ valid_to: validFrom, updated_at: trx.fn.now() });
          superseded = open.id;
        } else if (open) validTo = open.valid_from;
      }
      const [row] = await trx('memory_items')
        .insert({
          ...it,
          metadata: JSON.stringify(it.metadata),
          valid_from: validFrom,
          valid_to: validTo,
        })
        .returning<MemoryItemView[]>(VIEW_COLUMNS as unknown as string[]);
      out.push({ item: row!, superseded });
    }
    return out;
  }

  async get(workspaceId: string, id: string, trx?: Knex.Transaction): Promise<MemoryItemView | undefined> {
    return (trx ?? this.db)('memory_items')
      .where({ workspace_id: workspaceId, id })
      .first<MemoryItemView | undefined>(VIEW_COLUMNS as unknown as string[]);
  }

  /** Locks the row for an edit in `trx`. */
  async getForUpdate(
    trx: Knex.Transaction,
    workspaceId: string,
    id: string,
  ): Promise<MemoryItemView | undefined> {
    return trx('memory_items')
      .where({ workspace_id: workspaceId, id })
      .forUpdate()
      .first<MemoryItemView | undefined>(VIEW_COLUMNS as unknown as string[]);
  }

  async update(
    trx: Knex.Transaction,
    workspaceId: string,
    id: string,
    patch: MemoryItemPatch,
  ): Promise<MemoryItemView> {
    const [row] = await trx('memory_items')
      .where({ workspace_id: workspaceId, id })
      .update({
        ...patch,
        ...(patch.metadata !== undefined ? { metadata: JSON.stringify(patch.metadata) } : {}),
        updated_at: trx.fn.now(),
      })
      .returning<MemoryItemView[]>(VIEW_COLUMNS as unknown as string[]);
    return row!;
  }

  /** Newest first, one page; `after` continues from a cursor. */
  async list(
    workspaceId: string,
    filters: MemoryFilters,
    after: KeysetPosition | undefined,
    limit: number,
  ): Promise<MemoryItemView[]> {
    const q = this.filtered(workspaceId, filters).select<MemoryItemView[]>(
      VIEW_COLUMNS as unknown as string[],
    );
    return orderByKeyset(q, 'desc', after).limit(limit);
  }

  async byIds(workspaceId: string, ids: readonly string[]): Promise<MemoryItemView[]> {
    if (ids.length === 0) return [];
    return this.db('memory_items')
      .where('workspace_id', workspaceId)
      .whereIn('id', ids)
      .select<MemoryItemView[]>(VIEW_COLUMNS as unknown as string[]);
  }

  async delete(trx: Knex.Transaction, workspaceId: string, id: string): Promise<MemoryItemView | undefined> {
    const [row] = await trx('memory_items')
      .where({ workspace_id: workspaceId, id })
      .delete()
      .returning<MemoryItemView[]>(VIEW_COLUMNS as unknown as string[]);
    return row;
  }

  /** Forgets what one run stored; the ids deleted. */
  async deleteBySourceRun(trx: Knex.Transaction, workspaceId: string, runId: string): Promise<string[]> {
    const rows = await trx('memory_items')
      .where({ workspace_id: workspaceId, source_run_id: runId })
      .delete()
      .returning<{ id: string }[]>('id');
    return rows.map((r) => r.id);
  }

  /** Whether any item matches (a flow skips a recall, and its embedding call, when nothing could answer). */
  async any(workspaceId: string, filters: MemoryFilters): Promise<boolean> {
    const row = await this.filtered(workspaceId, filters).first('id');
    return row !== undefined;
  }

  /** The `n` items nearest `vector` among those embedded by `embeddingModel`, nearest first. */
  async vectorCandidates(
    path: MemorySearchPath,
    workspaceId: string,
    filters: MemoryFilters,
    embeddingModel: string,
    vector: readonly number[],
    n: number,
  ): Promise<Candidate[]> {
    if (path === 'pgvector') return this.hnswCandidates(workspaceId, filters, embeddingModel, vector, n);
    // The exact path: every matching vector, in PostgreSQL's binary array form (no float text to parse),
    // read in pages along the list index so a large memory never sits in this process all at once; only
    // the best `n` so far are kept.
    let best: Candidate[] = [];
    let after: KeysetPosition | undefined;
    for (;;) {
      const q = this.filtered(workspaceId, filters)
        .where('embedding_model', embeddingModel)
        .select<{ id: string; created_at: Date; e: Buffer }[]>(
          'id',
          'created_at',
          this.db.raw('array_send(embedding) AS e'),
        );
      const rows = await orderByKeyset(q, 'asc', after).limit(this.exactScanPage);
      for (const r of rows) best.push({ id: r.id, score: roundScore(dotWithBinaryArray(r.e, vector)) });
      if (best.length > 4 * n) best = topCandidates(best, n);
      if (rows.length < this.exactScanPage) break;
      const last = rows.at(-1)!;
      after = { t: last.created_at.toISOString(), id: last.id };
    }
    return topCandidates(best, n);
  }

  private async hnswCandidates(
    workspaceId: string,
    filters: MemoryFilters,
    embeddingModel: string,
    vector: readonly number[],
    n: number,
  ): Promise<Candidate[]> {
    const literal = vectorLiteral(vector);
    const distance = `${MEMORY_VECTOR_EXPRESSION} <=> ?::vector(${MEMORY_EMBEDDING_DIMENSIONS})`;
    return this.db.transaction(async (trx) => {
      // The index keeps `ef_search` candidates; a filter (workspace, Lord, kind, time) may drop many of
      // them, so the scan iterates until `n` survive (pgvector ≥ 0.8), and never looks at fewer than 2n.
      await trx.raw(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(100, 2 * n))}`);
      await trx.raw(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      const rows = await this.filtered(workspaceId, filters, trx)
        .where('embedding_model', embeddingModel)
        .select<{ id: string; distance: number }[]>('id', trx.raw(`${distance} AS distance`, [literal]))
        .orderByRaw(distance, [literal])
        .limit(n);
      // relaxed_order may return near-ties slightly out of order: settle them here.
      return rows
        .map((r) => ({ id: r.id, score: roundScore(1 - Number(r.distance)) }))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    });
  }

  /** The `n` best full-text matches of any of `terms` (OR), best first; empty without terms. */
  async textCandidates(
    workspaceId: string,
    filters: MemoryFilters,
    terms: readonly string[],
    n: number,
  ): Promise<Candidate[]> {
    // Terms are letters and digits only (see the caller), so quoting them makes a safe tsquery.
    const query = terms.map((t) => `'${t}'`).join(' | ');
    if (query === '') return [];
    const rows = await this.filtered(workspaceId, filters)
      .whereRaw(`search_text @@ to_tsquery('english', ?)`, [query])
      .select<{ id: string; rank: number }[]>(
        'id',
        this.db.raw(`ts_rank_cd(search_text, to_tsquery('english', ?)) AS rank`, [query]),
      )
      .orderBy([
        { column: 'rank', order: 'desc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(n);
    return rows.map((r) => ({ id: r.id, score: Number(r.rank) }));
  }

  private filtered(workspaceId: string, f: MemoryFilters, trx?: Knex.Transaction) {
    const q = (trx ?? this.db)('memory_items').where('workspace_id', workspaceId);
    if (f.agents) {
      const keys = f.agents.filter((a): a is string => a !== null);
      const shared = f.agents.includes(null);
      q.where((w) => {
        if (keys.length > 0) w.orWhereIn('agent', keys);
        if (shared) w.orWhereNull('agent');
        if (keys.length === 0 && !shared) w.whereRaw('false');
      });
    }
    if (f.kinds) q.whereIn('kind', f.kinds);
    if (f.subject !== undefined) q.where('subject', f.subject);
    if (f.sourceRunId !== undefined) q.where('source_run_id', f.sourceRunId);
    if (f.asOf) {
      q.where('valid_from', '<=', f.asOf);
      q.where((w) => w.whereNull('valid_to').orWhere('valid_to', '>', f.asOf!));
    }
    if (f.metadata) q.whereRaw(`metadata @> ?::jsonb`, [JSON.stringify(f.metadata)]);
    return q;
  }
}
