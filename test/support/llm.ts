import type { Knex } from 'knex';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { DispatchTrailService } from '@raptorflow/llm/dispatch-trail.service';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { ModelRouter } from '@raptorflow/llm/model-router';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';
import { parseSettings } from '@raptorflow/core/config/settings';
import type { LlmSettings } from '@raptorflow/core/config/llm-settings';
import type { ModelPricing } from '@raptorflow/core/money/money';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { newUser, newWorkspace } from './factories';
import { FakeAnthropicServer, FakeGeminiServer } from './fake-llm';

export const FAKE_GEMINI_KEY = 'test-gemini-key-must-never-leak';
export const FAKE_ANTHROPIC_KEY = 'sk-ant-test-key-must-never-leak';

/** Both fake provider servers, started before the file's tests and reset before each. */
export function useFakeProviders(): { gemini: FakeGeminiServer; anthropic: FakeAnthropicServer } {
  const gemini = new FakeGeminiServer();
  const anthropic = new FakeAnthropicServer();
  beforeAll(async () => {
    await Promise.all([gemini.start(), anthropic.start()]);
  });
  beforeEach(() => {
    gemini.reset();
    anthropic.reset();
  });
  afterAll(async () => {
    await Promise.all([gemini.stop(), anthropic.stop()]);
  });
  return { gemini, anthropic };
}

/** The environment that points the real SDKs at the fakes (API-key mode for both providers). */
export function fakeProviderEnv(
  fakes: { gemini: FakeGeminiServer; anthropic: FakeAnthropicServer },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    GEMINI_API_KEY: FAKE_GEMINI_KEY,
    GEMINI_BASE_URL: fakes.gemini.url,
    ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: fakes.anthropic.url,
    LLM_RETRY_BASE_MS: '10',
    LLM_RETRY_MAX_MS: '50',
    ...extra,
  };
}

export function llmSettings(env: Record<string, string>): LlmSettings {
  return parseSettings({ ...process.env, ...env }).llm;
}

export const PRICED_ON = new Date('2026-11-30T12:00:00Z');

/** The dispatcher's trail over `db` (the stack's by default) and the stack's bus, with its own audit writer. */
export function dispatchTrail(
  stack: { db: Knex; bus: RaptorBus },
  db: Knex = stack.db,
): DispatchTrailService {
  return new DispatchTrailService({ db, bus: stack.bus, audit: new AuditLogService({ db }) });
}

/** A dispatcher over the test's database and bus, its providers built from `env` like a service's would be. */
export function newDispatcher(
  stack: { db: Knex; bus: RaptorBus },
  env: Record<string, string>,
  opts: { budgetEnforcement?: boolean; defaultBudgetUsd?: number } = {},
): { dispatcher: ModelDispatcher; ledger: BudgetLedgerService; settings: LlmSettings } {
  const settings = llmSettings(env);
  const ledger = new BudgetLedgerService({
    db: stack.db,
    reservationTtlMs: settings.reservationTtlMs,
    defaultBudgetUsd: opts.defaultBudgetUsd ?? 50,
  });
  const dispatcher = new ModelDispatcher({
    settings,
    // Prices and retirements judged on a fixed day, so the exact costs asserted here never move with the
    // catalog's dated price changes.
    router: new ModelRouter({
      settings,
      catalog: getModelCatalog(settings.catalogFile),
      now: () => PRICED_ON,
    }),
    ledger,
    trail: dispatchTrail(stack),
    budgetEnforcement: opts.budgetEnforcement,
    random: () => 1,
  });
  return { dispatcher, ledger, settings };
}

/** Small helpers of the dispatcher tests: a prompt, a fresh workspace, and everything a dispatch leaves behind. */
export function dispatchHelpers(stack: { db: Knex }) {
  const ask = (content = 'Three taglines for a bakery') => [{ role: 'user' as const, content }];
  async function workspace() {
    const owner = await newUser();
    return { owner, ws: await newWorkspace(stack.db, owner) };
  }
  async function trail(wsId: string) {
    const costs = await stack.db('cost_logs').where({ workspace_id: wsId }).orderBy('created_at');
    const audits = await stack.db('audit_logs').where({ workspace_id: wsId, action: 'model.dispatch' });
    const usage = await stack.db('budget_usage').where({ workspace_id: wsId }).first();
    const reservations = await stack.db('budget_reservations').where({ workspace_id: wsId });
    const outbox = await stack.db('event_outbox').where({ workspace_id: wsId, event_type: 'cost.recorded' });
    return { costs, audits, usage, reservations, outbox };
  }
  return { ask, workspace, trail };
}

/** A model's prices as the dispatcher will use them now (the pinned catalog, no operator file). */
export function catalogPricing(model: string): ModelPricing {
  const catalog = getModelCatalog(undefined);
  const entry = catalog.lookup(model);
  if (!entry) throw new Error(`${model} is not in the catalog`);
  return catalog.pricingAt(entry, new Date());
}

/** True once a model call of the workspace is in flight: its budget reservation is taken and not settled. */
export async function callInFlight(db: Knex, workspaceId: string): Promise<boolean> {
  const row = await db('budget_reservations')
    .where({ workspace_id: workspaceId, status: 'active' })
    .first('id');
  return row !== undefined;
}
