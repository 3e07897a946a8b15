import { BudgetExceededError } from '@raptorflow/core/errors/app-error';
import { ModelRouter } from '@raptorflow/llm/model-router';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { Knex } from '@raptorflow/core/db/database';
import {
  dispatchHelpers,
  dispatchTrail,
  fakeProviderEnv,
  newDispatcher,
  useFakeProviders,
} from '../support/llm';
import { openStack } from '../support/stack';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';

/** The ModelDispatcher's budget admission and its record keeping, against the fake provider servers. */
const stack = openStack();
const fakes = useFakeProviders();
afterAll(() => stack.close());
const { ask, workspace, trail } = dispatchHelpers(stack);

describe('budget admission', () => {
  it('refuses a call whose worst case does not fit with 402 details, before any provider call', async () => {
    const { ws } = await workspace();
    await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: '0.001' });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
    const before = (await getMetrics().budgetRejectionsTotal.get()).values[0]?.value ?? 0;
    const err = await dispatcher
      .dispatch({ model: 'fast', messages: ask(), maxTokens: 1000 }, { workspaceId: ws.id })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).details).toEqual({
      budget_usd: 0.001,
      spent_usd: 0,
      reserved_usd: 0,
      requested_usd: expect.any(Number),
    });
    expect(fakes.gemini.callCount()).toBe(0);
    expect((await trail(ws.id)).costs).toHaveLength(0);
    expect((await getMetrics().budgetRejectionsTotal.get()).values[0]!.value).toBe(before + 1);
  });

  it('with budgets off the same call goes through (benchmarks only; refused in production by config)', async () => {
    const { ws } = await workspace();
    await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: '0' });
    const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes), { budgetEnforcement: false });
    await dispatcher.dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id });
    expect((await trail(ws.id)).reservations).toHaveLength(0);
  });
});

describe('recording', () => {
  it('keeps trying while PostgreSQL refuses connections, and records the call exactly once', async () => {
    const { ws } = await workspace();
    let failures = 2;
    // The real pool, except that the first two transactions fail as if the server were down.
    const flaky = new Proxy(stack.db, {
      get(target, prop, receiver) {
        if (prop === 'transaction')
          return (fn: (trx: Knex.Transaction) => Promise<unknown>) => {
            if (failures-- > 0)
              return Promise.reject(
                Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
              );
            return target.transaction(fn);
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    const { settings, ledger } = newDispatcher(stack, fakeProviderEnv(fakes));
    const dispatcher = new ModelDispatcher({
      settings,
      router: new ModelRouter({ settings, catalog: getModelCatalog(settings.catalogFile) }),
      ledger,
      trail: dispatchTrail(stack, flaky),
    });
    const r = await dispatcher.dispatch({ model: 'fast', messages: ask() }, { workspaceId: ws.id });
    expect(failures).toBeLessThan(0);
    const t = await trail(ws.id);
    expect(t.costs.map((c) => c.id)).toEqual([r.costLogId]);
    expect(t.usage.spent_usd).toBe(t.costs[0].cost_usd);
    expect(t.reservations[0].status).toBe('settled');
  });
});
