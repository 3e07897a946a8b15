// bench/memory's MemoryService, wired as a service's main.ts (and test/support/memory.ts) wire it — the
// ModelDispatcher on the `local` provider (the local embedder, no simulated latency) with budgets, cost logs
// and audit on the same database — with timers around the pieces a search is made of.
import type { Knex } from 'knex';
import { parseSettings } from '@raptorflow/core/config/settings';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import type { Candidate } from '@raptorflow/data/repositories/memory-item.repository';
import type { MemoryFilters } from '@raptorflow/data/repositories/memory-item.rows';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { DispatchTrailService } from '@raptorflow/llm/dispatch-trail.service';
import type { DispatchContext } from '@raptorflow/llm/dispatch-admission';
import type {
  EmbedRequest,
  EmbedResult,
  ModelDispatcherOptions,
} from '@raptorflow/llm/model-dispatcher.service';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';
import { ModelRouter } from '@raptorflow/llm/model-router';
import { MemoryService } from '@raptorflow/memory/memory.service';

/** Milliseconds of each call of one kind, in order; cleared between measurements. */
export class Timings {
  embed: number[] = [];
  vector: number[] = [];
  text: number[] = [];
  /** The vector side's candidates of each search, in order (for recall). */
  vectorLists: Candidate[][] = [];

  reset(): void {
    this.embed = [];
    this.vector = [];
    this.text = [];
    this.vectorLists = [];
  }
}

class TimedRepository extends MemoryItemRepository {
  constructor(
    db: Knex,
    private readonly t: Timings,
  ) {
    super(db);
  }

  override async vectorCandidates(
    path: MemorySearchPath,
    workspaceId: string,
    filters: MemoryFilters,
    embeddingModel: string,
    vector: readonly number[],
    n: number,
  ): Promise<Candidate[]> {
    const start = performance.now();
    const out = await super.vectorCandidates(path, workspaceId, filters, embeddingModel, vector, n);
    this.t.vector.push(performance.now() - start);
    this.t.vectorLists.push(out);
    return out;
  }

  override async textCandidates(
    workspaceId: string,
    filters: MemoryFilters,
    terms: readonly string[],
    n: number,
  ): Promise<Candidate[]> {
    const start = performance.now();
    try {
      return await super.textCandidates(workspaceId, filters, terms, n);
    } finally {
      this.t.text.push(performance.now() - start);
    }
  }
}

class TimedDispatcher extends ModelDispatcher {
  constructor(
    opts: ModelDispatcherOptions,
    private readonly t: Timings,
  ) {
    super(opts);
  }

  override async embed(req: EmbedRequest, ctx?: DispatchContext): Promise<EmbedResult> {
    const start = performance.now();
    try {
      return await super.embed(req, ctx);
    } finally {
      this.t.embed.push(performance.now() - start);
    }
  }
}

export interface BenchMemory {
  memory: MemoryService;
  items: MemoryItemRepository;
  timings: Timings;
  bus: RaptorBus;
}

/** A MemoryService on `db` serving `path`, its embeddings from the local provider through the dispatcher. */
export function benchMemoryService(db: Knex, path: MemorySearchPath, prefix: string): BenchMemory {
  const settings = parseSettings({
    ...process.env,
    LLM_PROVIDER: 'local',
    LOCAL_PROVIDER_LATENCY_MS: '0',
  }).llm;
  const timings = new Timings();
  const bus = new RaptorBus({ db, prefix });
  const audit = new AuditLogService({ db });
  const dispatcher = new TimedDispatcher(
    {
      settings,
      router: new ModelRouter({ settings, catalog: getModelCatalog(settings.catalogFile) }),
      ledger: new BudgetLedgerService({
        db,
        reservationTtlMs: settings.reservationTtlMs,
        defaultBudgetUsd: 50,
      }),
      trail: new DispatchTrailService({ db, bus, audit }),
      random: () => 1,
    },
    timings,
  );
  const items = new TimedRepository(db, timings);
  return { memory: new MemoryService({ db, items, dispatcher, audit, path }), items, timings, bus };
}
