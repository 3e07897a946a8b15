import type { MemoryItemView } from '@raptorflow/data/repositories/memory-item.rows';
import type { MemoryFilters } from '@raptorflow/data/repositories/memory-item.rows';
import type { SearchHit } from '@raptorflow/memory/memory.service';

/** A memory item as the API returns it (the vector stays in the database). */
export function memoryItemView(r: MemoryItemView) {
  return {
    id: r.id,
    agent: r.agent,
    kind: r.kind,
    subject: r.subject,
    content: r.content,
    metadata: r.metadata,
    valid_from: r.valid_from.toISOString(),
    valid_to: r.valid_to ? r.valid_to.toISOString() : null,
    source_run_id: r.source_run_id,
    created_by: r.created_by,
    embedding_model: r.embedding_model,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

export function memoryHitView(h: SearchHit) {
  return { ...memoryItemView(h.item), score: h.score, similarity: h.similarity, text_rank: h.textRank };
}

/** `shared` → the Council's items (agent null); a Lord's key → its own. */
export function agentsFilter(agent: string | undefined): MemoryFilters['agents'] {
  if (agent === undefined) return undefined;
  return agent === 'shared' ? [null] : [agent];
}
