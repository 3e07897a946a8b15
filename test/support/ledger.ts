import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { nanoToDecimal } from '@raptorflow/core/money/money';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { BudgetAlertService } from '@raptorflow/llm/budget-alerts.service';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { getSettings } from '@raptorflow/core/config/settings';
import { getLogger } from '@raptorflow/core/logging/logger';
import { AlertWebhookService } from '../../services/cost-ledger/src/alert-webhook.service';
import { newUser, newWorkspace } from './factories';

export interface CostRowSpec {
  workspaceId: string;
  model?: string;
  costUsd: string;
  /** An ISO timestamp; default now. */
  at?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** Cost rows written straight to the table (as the dispatcher's trail would), returning their ids. */
export async function insertCostRows(db: Knex, specs: CostRowSpec[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < specs.length; i += 1_000) {
    const rows = await db('cost_logs')
      .insert(
        specs.slice(i, i + 1_000).map((s) => ({
          workspace_id: s.workspaceId,
          provider: 'local',
          model: s.model ?? 'gemini-3.8-flash',
          input_tokens: s.inputTokens ?? 100,
          output_tokens: s.outputTokens ?? 50,
          cost_usd: s.costUsd,
          ...(s.at ? { created_at: s.at } : {}),
        })),
      )
      .returning<Array<{ id: string }>>('id');
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** What the rollups must say, computed from cost_logs, in the rollups' own shape (for exact comparison). */
export async function expectedRollups(db: Knex, workspaceIds: string[]) {
  const { rows } = await db.raw(
    `SELECT workspace_id, 'month' AS period, date_trunc('month', created_at AT TIME ZONE 'UTC')::date::text AS start,
            model, count(*)::int AS calls, sum(input_tokens)::bigint AS input, sum(cost_usd)::text AS spent
     FROM cost_logs WHERE workspace_id = ANY(?) GROUP BY 1, 3, 4
     UNION ALL
     SELECT workspace_id, 'day', date_trunc('day', created_at AT TIME ZONE 'UTC')::date::text, model, count(*)::int,
            sum(input_tokens)::bigint, sum(cost_usd)::text
     FROM cost_logs WHERE workspace_id = ANY(?) GROUP BY 1, 3, 4
     ORDER BY 1, 2, 3, 4`,
    [workspaceIds, workspaceIds],
  );
  return rows;
}

export async function actualRollups(db: Knex, workspaceIds: string[]) {
  const { rows } = await db.raw(
    `SELECT workspace_id, period, period_start::text AS start, model, calls::int AS calls,
            input_tokens AS input, spent_usd::text AS spent
     FROM cost_rollups WHERE workspace_id = ANY(?) ORDER BY 1, 2, 3, 4`,
    [workspaceIds],
  );
  return rows;
}

/** The cost-ledger's webhook deliverer wired as its main.ts does, with the configured values unless overridden. */
export function alertWebhook(
  db: Knex,
  o: { url: string; timeoutMs?: number; blockPrivateAddresses?: boolean },
): AlertWebhookService {
  const s = getSettings();
  return new AlertWebhookService({
    db,
    url: o.url,
    secret: s.secretKey,
    timeoutMs: o.timeoutMs ?? s.ledger.alertWebhookTimeoutMs,
    blockPrivateAddresses: o.blockPrivateAddresses ?? s.isProduction,
    logger: getLogger(),
  });
}

/** A BudgetAlertService wired as the cost-ledger's main.ts does (over `db`, the stack's by default). */
export function budgetAlerts(stack: { db: Knex; bus: RaptorBus }, db: Knex = stack.db): BudgetAlertService {
  return new BudgetAlertService({
    db,
    bus: stack.bus,
    audit: new AuditLogService({ db }),
    defaultBudgetUsd: getSettings().monthlyWorkspaceBudgetUsd,
  });
}

/** A BudgetLedgerService with the configured budget and reservation TTL unless a test overrides one. */
export function budgetLedger(
  db: Knex,
  o: { reservationTtlMs?: number; defaultBudgetUsd?: number } = {},
): BudgetLedgerService {
  return new BudgetLedgerService({
    db,
    reservationTtlMs: o.reservationTtlMs ?? getSettings().llm.reservationTtlMs,
    defaultBudgetUsd: o.defaultBudgetUsd ?? getSettings().monthlyWorkspaceBudgetUsd,
  });
}

/**
 * `rows` random cost rows over `workspaces` new workspaces of one owner (each with a budget out of the way),
 * `models`, and the last `days` days (two UTC months, many days), with costs down to 1e-9 USD: exactly what a
 * float sum would drift on. For the ledger's load and crash tests.
 */
export async function randomCostRows(
  db: Knex,
  o: { workspaces: number; rows: number; models: readonly string[]; days: number },
): Promise<{ wsIds: string[]; ids: string[]; specs: Map<string, CostRowSpec> }> {
  const owner = await newUser();
  const workspaces = await Promise.all(Array.from({ length: o.workspaces }, () => newWorkspace(db, owner)));
  const wsIds = workspaces.map((w) => w.id);
  for (const id of wsIds)
    await db('workspace_budgets').insert({ workspace_id: id, monthly_budget_usd: '1000000' });
  const now = Date.now();
  const specs: CostRowSpec[] = Array.from({ length: o.rows }, (_, i) => ({
    workspaceId: wsIds[i % wsIds.length]!,
    model: o.models[randomInt(o.models.length)]!,
    costUsd: nanoToDecimal(BigInt(randomInt(1, 5_000_000))),
    at: new Date(now - randomInt(o.days * 24 * 3600) * 1000).toISOString(),
    inputTokens: randomInt(1, 5_000),
  }));
  const ids = await insertCostRows(db, specs);
  return { wsIds, ids, specs: new Map(ids.map((id, i) => [id, specs[i]!])) };
}
