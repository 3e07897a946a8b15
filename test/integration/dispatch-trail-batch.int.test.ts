import { randomUUID } from 'node:crypto';
import { runWithContext } from '@raptorflow/core/context/request-context';
import { decimalToNano } from '@raptorflow/core/money/money';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import type { DispatchActor, DispatchOutcome } from '@raptorflow/llm/dispatch-trail.rows';
import { ZERO_USAGE } from '@raptorflow/llm/dispatch-trail.service';
import { dispatchHelpers, dispatchTrail, newDispatcher } from '../support/llm';
import { openStack } from '../support/stack';

/**
 * The group commit of dispatch trails: the records of one workspace's concurrent calls commit together (one
 * cost insert, one settlement), and each call still gets exactly one cost row, audit row and cost.recorded
 * event, with spend and reservations exact to the nano-dollar; a record the database refuses fails alone.
 */
const stack = openStack();
afterAll(() => stack.close());
const { ask, workspace, trail } = dispatchHelpers(stack);

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

function outcome(kind: 'success' | 'failed', costNano: bigint): DispatchOutcome {
  return {
    operation: 'chat',
    outcome: kind,
    alias: 'fast',
    provider: 'local',
    model: 'gemini-3.8-flash',
    usage: kind === 'success' ? { ...ZERO_USAGE, inputTokens: 10, outputTokens: 5 } : ZERO_USAGE,
    costNano,
    latencyMs: 1,
    attempts: 1,
    errorCode: kind === 'success' ? null : 'model_unavailable',
    pricingVersion: 'test',
    auditInput: { messages: 1 },
    auditOutput: kind === 'success' ? { characters: 2 } : null,
  };
}

describe('batched dispatch trails', () => {
  it('60 concurrent dispatches: one cost row, audit row and event each; spend equals the cost rows', async () => {
    const { ws } = await workspace();
    const { dispatcher, ledger } = newDispatcher(stack, {
      LLM_PROVIDER: 'local',
      LOCAL_PROVIDER_LATENCY_MS: '0',
    });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        dispatcher.dispatch(
          { model: 'fast', messages: ask(`call ${i}`), maxTokens: 64 },
          { workspaceId: ws.id },
        ),
      ),
    );
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(60);
    expect(new Set(t.costs.map((c: { id: string }) => c.id))).toEqual(
      new Set(results.map((r) => r.costLogId)),
    );
    expect(t.audits).toHaveLength(60);
    expect(t.outbox).toHaveLength(60);
    expect(t.reservations.every((r: { status: string }) => r.status === 'settled')).toBe(true);
    const state = await ledger.state(ws.id);
    expect(state.reservedNano).toBe(0n);
    expect(state.spentNano).toBe(sum(results.map((r) => r.costNano)));
    expect(Number(t.usage.calls)).toBe(60);
    // Rows of one transaction share its timestamp: fewer distinct ones than calls means they were batched.
    const stamps = new Set(t.costs.map((c: { created_at: Date }) => c.created_at.getTime()));
    expect(stamps.size).toBeLessThan(60);
  });

  it('settles successes and releases failures of one batch exactly; a refused record fails only its call', async () => {
    const { ws } = await workspace();
    const ledger = new BudgetLedgerService({ db: stack.db, defaultBudgetUsd: 50, reservationTtlMs: 60_000 });
    const trailService = dispatchTrail(stack);
    const reservations = await Promise.all(
      Array.from({ length: 20 }, () =>
        ledger.reserve({ workspaceId: ws.id, amountNano: 1_000_000n, model: 'gemini-3.8-flash' }),
      ),
    );
    const actor = (agentRunId: string | null): DispatchActor => ({
      workspaceId: ws.id,
      actorUserId: null,
      agentRunId,
      agentId: null,
      correlationId: null,
    });
    // 10 successes, 9 failures (released), and one whose agent run does not exist (its cost row is refused).
    const plans = reservations.map((r, i) => ({
      r,
      kind: i < 10 ? ('success' as const) : ('failed' as const),
      cost: i < 10 ? BigInt(1_000 + i) : 0n,
      run: i === 19 ? randomUUID() : null,
    }));
    const settled = await Promise.all(
      plans.map((p) =>
        trailService
          .record(actor(p.run), outcome(p.kind, p.cost), ledger, p.r)
          .then(() => 'ok')
          .catch((e: unknown) => String(e)),
      ),
    );
    expect(settled.slice(0, 19).every((s) => s === 'ok')).toBe(true);
    expect(settled[19]).toMatch(/foreign key/);
    const t = await trail(ws.id);
    expect(t.costs).toHaveLength(19);
    expect(t.outbox).toHaveLength(19);
    const status = new Map(t.reservations.map((r: { id: string; status: string }) => [r.id, r.status]));
    plans.forEach((p, i) =>
      expect(status.get(p.r.id)).toBe(i < 10 ? 'settled' : i < 19 ? 'released' : 'active'),
    );
    const state = await ledger.state(ws.id);
    expect(state.spentNano).toBe(sum(plans.slice(0, 10).map((p) => p.cost)));
    // Only the call whose record failed still holds its reservation (it expires and is reclaimed later).
    expect(state.reservedNano).toBe(1_000_000n);
    expect(Number(t.usage.calls)).toBe(19);
    const [logged] = await stack
      .db('cost_logs')
      .where({ workspace_id: ws.id })
      .select<Array<{ total: string }>>(stack.db.raw('sum(cost_usd)::text AS total'));
    expect(decimalToNano(logged!.total)).toBe(state.spentNano);
  });

  it("writes each batched record's audit row and event in that call's own request context", async () => {
    const { ws } = await workspace();
    const trailService = dispatchTrail(stack);
    const actor: DispatchActor = {
      workspaceId: ws.id,
      actorUserId: null,
      agentRunId: null,
      agentId: null,
      correlationId: null,
    };
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        runWithContext({ correlationId: `corr-${i}`, traceparent: undefined }, () =>
          trailService
            .record(actor, outcome('success', 5n), undefined, undefined)
            .then((id) => [id, i] as const),
        ),
      ),
    );
    const t = await trail(ws.id);
    const audits = new Map(
      t.audits.map((a: { resource_id: string; correlation_id: string }) => [a.resource_id, a]),
    );
    const events = new Map(
      t.outbox.map((e: { envelope: { payload: { cost_log_id: string }; correlation_id: string } }) => [
        e.envelope.payload.cost_log_id,
        e.envelope.correlation_id,
      ]),
    );
    for (const [id, i] of ids) {
      expect(audits.get(id)?.correlation_id).toBe(`corr-${i}`);
      expect(events.get(id)).toBe(`corr-${i}`);
    }
    const stamps = new Set(t.costs.map((c: { created_at: Date }) => c.created_at.getTime()));
    expect(stamps.size).toBeLessThan(12);
  });
});
