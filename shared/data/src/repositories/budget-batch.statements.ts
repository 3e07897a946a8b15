import { CURRENT_MONTH_SQL, budgetOfSql } from './budget-sql';

/**
 * The group-commit statements of the budget aggregate (used by BudgetRepository.reserveBatch/finishBatch):
 * each does for many calls of one workspace what RESERVE_STATEMENT / FINISH_STATEMENT do for one, under the
 * same lock and the same rules, writing the hot `budget_usage` row once.
 */

/**
 * The group commit of RESERVE_STATEMENT: $1 workspace, $2 default budget, $3 reservation ids, $4 amounts,
 * $5 models, $6 agent runs, $7 correlation ids (arrays in arrival order), $8 TTL ms. The workspace's month
 * row is locked first (FOR UPDATE returns its newest version), then `walk` admits the requests one by one in
 * arrival order, each only while used + its amount stays within budget (a refused request takes nothing, so
 * a smaller one after it may still fit), and one upsert adds the admitted total. The upsert re-checks the
 * budget: when the row did not exist at the lock (first reservation of the month) and a concurrent statement
 * created it meanwhile, nothing is written and `applied` is false, so the caller runs the batch again.
 */
export const RESERVE_BATCH_STATEMENT = {
  name: 'raptorflow_budget_reserve_batch_v1',
  text: `WITH RECURSIVE b AS MATERIALIZED (
           SELECT ${budgetOfSql('$1::uuid', '$2')} AS budget, ${CURRENT_MONTH_SQL} AS month
         ), lock AS MATERIALIZED (
           SELECT u.spent_usd + u.reserved_usd AS used FROM budget_usage u, b
           WHERE u.workspace_id = $1::uuid AND u.month = b.month FOR UPDATE OF u
         ), req AS MATERIALIZED (
           SELECT * FROM unnest($3::uuid[], $4::numeric[], $5::text[], $6::uuid[], $7::text[])
             WITH ORDINALITY AS r(id, amount, model, agent_run_id, correlation_id, i)
         ), walk(i, used, ok) AS (
           SELECT 0::bigint, COALESCE((SELECT used FROM lock), 0::numeric), false
           UNION ALL
           SELECT r.i, CASE WHEN w.used + r.amount <= b.budget THEN w.used + r.amount ELSE w.used END,
                  w.used + r.amount <= b.budget
           FROM walk w JOIN req r ON r.i = w.i + 1 CROSS JOIN b
         ), adm AS MATERIALIZED (
           SELECT r.* FROM req r JOIN walk w ON w.i = r.i WHERE w.ok
         ), up AS (
           INSERT INTO budget_usage AS u (workspace_id, month, reserved_usd)
           SELECT $1::uuid, b.month, t.total FROM b, (SELECT SUM(amount) AS total FROM adm) t
           WHERE t.total IS NOT NULL
           ON CONFLICT (workspace_id, month) DO UPDATE
             SET reserved_usd = u.reserved_usd + EXCLUDED.reserved_usd, updated_at = now()
             WHERE u.spent_usd + u.reserved_usd + EXCLUDED.reserved_usd <= (SELECT budget FROM b)
           RETURNING u.month
         ), ins AS (
           INSERT INTO budget_reservations (id, workspace_id, month, amount_usd, model, agent_run_id,
                                            correlation_id, expires_at)
           SELECT adm.id, $1::uuid, up.month, adm.amount, adm.model, adm.agent_run_id, adm.correlation_id,
                  now() + make_interval(secs => $8::double precision / 1000)
           FROM adm, up
           RETURNING id
         )
         SELECT (SELECT month::text FROM b) AS month,
                COALESCE(array_agg(w.ok ORDER BY w.i) FILTER (WHERE w.i > 0), '{}') AS admitted,
                (EXISTS (SELECT 1 FROM up) OR NOT EXISTS (SELECT 1 FROM adm))
                  AND (SELECT count(*) FROM ins) = (SELECT count(*) FROM adm) AS applied
         FROM walk w`,
};

/**
 * FINISH_STATEMENT for many reservations of one workspace (the group commit of concurrent calls' trails):
 * $1 reservation ids (distinct), $2 statuses, $3 actual costs, $4 workspace. Same rules per reservation;
 * the give-backs and spends are summed so the hot month row is still written once.
 */
export const FINISH_BATCH_STATEMENT = {
  name: 'raptorflow_budget_finish_batch_v1',
  text: `WITH cur AS (SELECT ${CURRENT_MONTH_SQL} AS month),
       inp AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::numeric[]) AS t(id, status, actual)),
       old AS (
         SELECT id, status, amount_usd, month FROM budget_reservations
         WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
       ), done AS (
         UPDATE budget_reservations r
         SET status = inp.status, settled_cost_usd = inp.actual, updated_at = now()
         FROM old, inp WHERE r.id = old.id AND inp.id = old.id AND old.status IN ('active', 'expired')
         RETURNING r.id, old.status AS old_status, old.amount_usd, old.month
       ), counted AS (
         SELECT inp.actual FROM inp
         WHERE EXISTS (SELECT 1 FROM done WHERE done.id = inp.id)
            OR NOT EXISTS (SELECT 1 FROM old WHERE old.id = inp.id)
       ), give_back AS (
         SELECT month, SUM(amount_usd) FILTER (WHERE old_status = 'active') AS amount FROM done GROUP BY month
       ), other_month AS (
         UPDATE budget_usage u SET reserved_usd = GREATEST(u.reserved_usd - g.amount, 0), updated_at = now()
         FROM give_back g, cur
         WHERE g.month <> cur.month AND g.amount IS NOT NULL AND u.workspace_id = $4 AND u.month = g.month
         RETURNING 1
       )
       INSERT INTO budget_usage AS u (workspace_id, month, spent_usd, calls)
       SELECT $4, cur.month, s.spent, s.calls
       FROM cur, (SELECT COALESCE(SUM(actual), 0) AS spent, count(*) AS calls FROM counted) s
       WHERE s.calls > 0
       ON CONFLICT (workspace_id, month) DO UPDATE SET
         spent_usd = u.spent_usd + EXCLUDED.spent_usd,
         reserved_usd = GREATEST(
           u.reserved_usd - COALESCE((SELECT g.amount FROM give_back g, cur WHERE g.month = cur.month), 0), 0),
         calls = u.calls + EXCLUDED.calls,
         updated_at = now()`,
};
