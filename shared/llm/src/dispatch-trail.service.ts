import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { isTransientDbError } from '@raptorflow/core/db/transient-errors';
import { getLogger } from '@raptorflow/core/logging/logger';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { BudgetLedgerService, Reservation } from './budget-ledger.service';
import { KeyedGroupCommit, succeeded } from '@raptorflow/core/batching/group-commit';
import { auditEntry, costRow } from './dispatch-trail.rows';
import type { DispatchActor, DispatchOutcome } from './dispatch-trail.rows';
import type { TokenUsage } from './llm.types';
import { nanoToDecimal, nanoToNumber } from '@raptorflow/core/money/money';

export const ZERO_USAGE: TokenUsage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  thinkingTokens: 0,
};

export interface DispatchTrailOptions {
  db: Knex;
  /** How long a record keeps retrying while PostgreSQL is unreachable (the money is already spent). */
  retryForMs?: number;
  bus: RaptorBus;
  audit: AuditLogService;
  /** Off only to measure its effect (bench/dispatch): every record then commits on its own. */
  groupCommit?: boolean;
}

/**
 * Records of one workspace per transaction at most. One transaction of a workspace is in flight at a time:
 * tried against 2 and 4 in flight (bench/dispatch, 50 callers), one gives the largest batches and the most
 * calls/s (budgets on 1,473-1,670/s against 1,374/s with 2, load 5-8), as every transaction's settlement
 * waits on the same budget row anyway.
 */
const MAX_TRAIL_BATCH = 128;

/**
 * The record of every dispatch (SPEC §10): the budget settlement, the cost row, the audit row and the
 * `cost.recorded` outbox event commit in ONE transaction, so spend is never counted without its record
 * or recorded without being counted. Prompts and answers are stored only as digests.
 *
 * Group commit: while one workspace's trail transaction is in flight, that workspace's later records queue
 * and the next transaction carries all of them (one cost insert, one settlement statement, one commit). A
 * record alone is written at once. When a batch's transaction fails, each of its records is written again
 * on its own (after checking its id, in case the commit happened), so one bad record fails only its call.
 */
export class DispatchTrailService {
  private readonly db: Knex;
  private readonly costs: CostLogRepository;
  private readonly auditRows: AuditLogRepository;
  private readonly bus: RaptorBus;
  private readonly audit: AuditLogService;
  private readonly retryForMs: number;
  private readonly batcher: KeyedGroupCommit<TrailEntry, undefined>;
  private readonly groupCommit: boolean;

  constructor(opts: DispatchTrailOptions) {
    this.db = opts.db;
    this.costs = new CostLogRepository(this.db);
    this.auditRows = new AuditLogRepository(this.db);
    this.retryForMs = opts.retryForMs ?? 60_000;
    this.bus = opts.bus;
    this.audit = opts.audit;
    this.groupCommit = opts.groupCommit ?? true;
    // One trail transaction in flight per workspace (their settlements wait on the same budget row); a lone
    // record is sent at once.
    this.batcher = new KeyedGroupCommit({
      run: async (_ws, entries) => {
        await this.write(entries);
        return entries.map(() => succeeded(undefined));
      },
      maxBatch: MAX_TRAIL_BATCH,
      maxInFlight: 1,
      start: 'at-once',
    });
  }

  async record(
    actor: DispatchActor,
    o: DispatchOutcome,
    ledger: BudgetLedgerService | undefined,
    reservation: Reservation | undefined,
  ): Promise<string> {
    // The id is chosen here so a retry after a commit whose answer was lost can tell it already happened.
    const entry: TrailEntry = {
      costLogId: randomUUID(),
      actor,
      o,
      ledger,
      reservation,
      inContext: AsyncLocalStorage.snapshot(),
    };
    const deadline = Date.now() + this.retryForMs;
    let written = false;
    try {
      if (this.groupCommit) {
        await this.batcher.submit(actor.workspaceId, entry);
        written = true;
      }
    } catch {
      // The batch's transaction failed: each of its calls is written again on its own, below, so a record
      // the database refuses fails only its own call, and a lost answer to a commit is found by its id.
    }
    if (!this.groupCommit) await this.writeAlone(entry, deadline);
    else if (!written && !(await this.exists(entry.costLogId))) await this.writeAlone(entry, deadline);
    observe(o);
    return entry.costLogId;
  }

  /** One record in its own transaction, retried while PostgreSQL is unreachable (the money is spent). */
  private async writeAlone(entry: TrailEntry, deadline: number): Promise<void> {
    const { costLogId, actor, o, reservation } = entry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write([entry]);
        return;
      } catch (err) {
        if (!isTransientDbError(err) || Date.now() >= deadline) {
          // Last resort: the line carries everything needed to restore the record by hand.
          getLogger().error(
            {
              err,
              cost_log_id: costLogId,
              workspace_id: actor.workspaceId,
              model: o.model,
              cost_usd: nanoToDecimal(o.costNano),
              reservation_id: reservation?.id,
            },
            'could not record a model dispatch',
          );
          throw err;
        }
        if (await this.exists(costLogId)) return;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  private async exists(costLogId: string): Promise<boolean> {
    try {
      return await this.costs.exists(costLogId);
    } catch {
      return false;
    }
  }

  /**
   * The records of one workspace's concurrent calls in ONE transaction: one multi-row cost insert, each
   * call's audit row and outbox event, and one settlement statement for all their reservations.
   */
  private async write(entries: TrailEntry[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      const [first] = entries;
      if (entries.length === 1) await this.costs.insert(trx, costRow(first!));
      else await this.costs.insertMany(trx, entries.map(costRow));
      // Each in its own call's context (request ids, trace parent), not that of the call whose turn it is.
      // The audit rows in one statement, the events in another.
      if (entries.length === 1) await first!.inContext(() => this.audit.record(auditEntry(first!), trx));
      else
        await this.auditRows.insertMany(
          entries.map((e) => e.inContext(() => this.audit.row(auditEntry(e)))),
          trx,
        );
      await this.bus.publishMany(
        entries.map((e) => ({
          type: 'cost.recorded' as const,
          payload: { cost_log_id: e.costLogId, model: e.o.model, cost_usd: nanoToDecimal(e.o.costNano) },
          opts: { workspaceId: e.actor.workspaceId, correlationId: e.actor.correlationId ?? undefined },
          inContext: e.inContext,
        })),
        trx,
      );
      // Last, so the workspace's budget row stays locked only for the commit: concurrent calls of the same
      // workspace queue on that lock, not on this transaction's other inserts.
      await settle(entries, trx);
    });
  }
}

interface TrailEntry {
  costLogId: string;
  actor: DispatchActor;
  o: DispatchOutcome;
  ledger: BudgetLedgerService | undefined;
  reservation: Reservation | undefined;
  /** Runs a function in the async context (request context, active span) of the call this record is of. */
  inContext: <R>(fn: () => R) => R;
}

/** Settles (success) or releases (any other outcome) the entries' reservations, one statement per ledger. */
async function settle(entries: TrailEntry[], trx: Knex.Transaction): Promise<void> {
  const held = entries.filter((e) => e.ledger && e.reservation);
  if (held.length === 1) {
    const { ledger, reservation, o } = held[0]!;
    if (o.outcome === 'success') await ledger!.settle(reservation!, o.costNano, trx);
    else await ledger!.release(reservation!, trx);
    return;
  }
  for (const ledger of new Set(held.map((e) => e.ledger!))) {
    const mine = held.filter((e) => e.ledger === ledger);
    await ledger.finishMany(
      trx,
      mine[0]!.reservation!.workspaceId,
      mine.map((e) => ({
        reservation: e.reservation!,
        status: e.o.outcome === 'success' ? ('settled' as const) : ('released' as const),
        actualNano: e.o.costNano,
      })),
    );
  }
}

function observe(o: DispatchOutcome): void {
  const m = getMetrics();
  const labels = { provider: o.provider, model: o.model };
  m.llmCallsTotal.inc({ ...labels, outcome: o.outcome });
  m.llmCallDuration.observe({ ...labels, outcome: o.outcome }, o.latencyMs / 1000);
  const kinds: Array<[string, number]> = [
    ['input', o.usage.inputTokens],
    ['cached_input', o.usage.cachedInputTokens],
    ['cache_write', o.usage.cacheWriteTokens],
    ['output', o.usage.outputTokens],
    ['thinking', o.usage.thinkingTokens],
  ];
  for (const [kind, n] of kinds) if (n > 0) m.llmTokensTotal.inc({ ...labels, kind }, n);
  if (o.costNano > 0n) m.llmCostUsdTotal.inc(labels, nanoToNumber(o.costNano));
}

export function digest(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
