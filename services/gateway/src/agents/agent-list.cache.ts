import { LRUCache } from 'lru-cache';
import { INVALIDATION_TOPICS } from '@raptorflow/core/cache/invalidation-bus';
import type { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import type { AgentView } from './agent.schemas';

export interface AgentListCacheOptions {
  ttlMs: number;
  max: number;
  invalidations?: InvalidationBus;
}

/**
 * A workspace's Lords change only when the seeder (or a later agent edit) writes them, and that writer
 * broadcasts an invalidation; the TTL bounds staleness if a broadcast is lost. An empty list means seeding
 * has not finished, so it is never cached.
 */
interface Entry {
  list: AgentView[];
  /** `{"data": list, "next_cursor": null}` serialized once: GET /v1/agents sends it as it is. */
  page?: Buffer;
}

export class AgentListCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  private epoch = 0;

  constructor(opts: AgentListCacheOptions) {
    this.lru = opts.max > 0 && opts.ttlMs > 0 ? new LRUCache({ max: opts.max, ttl: opts.ttlMs }) : undefined;
    opts.invalidations?.on(INVALIDATION_TOPICS.agents, (workspaceId) => {
      this.epoch++;
      this.lru?.delete(workspaceId);
    });
  }

  async getOrLoad(workspaceId: string, load: () => Promise<AgentView[]>): Promise<AgentView[]> {
    const hit = this.lru?.get(workspaceId);
    if (hit) return hit.list;
    const epoch = this.epoch;
    const list = await load();
    if (this.lru && list.length > 0 && epoch === this.epoch)
      this.lru.set(workspaceId, { list: Object.freeze(list) as AgentView[] });
    return list;
  }

  /**
   * The cached list as the JSON of a one-page list response, serialized on the first ask and reused until
   * the entry goes (invalidation, TTL): the list never changes in place, so neither does its JSON.
   * Undefined when the list is not cached (then getOrLoad).
   */
  cachedPage(workspaceId: string): Buffer | undefined {
    const hit = this.lru?.get(workspaceId);
    if (!hit) return undefined;
    // Encoded once too: res.send would otherwise turn the string into UTF-8 bytes on every request.
    hit.page ??= Buffer.from(JSON.stringify({ data: hit.list, next_cursor: null }), 'utf8');
    return hit.page;
  }
}
