import type { PreparedStatement } from '@raptorflow/core/db/prepared';
import { runEventInsertSql } from './agent-run-event.repository';
import { auditInsertFromJsonSql } from './audit-log.repository';
import { runCostSumSql, runTotalsSql } from './cost-log.repository';

/**
 * The runner's per-step statements, one round trip each at a step's start and at its end (prepared: planned
 * once per connection). Everything a step records rides in them: the step row, its events, the audit rows of
 * its model calls and the run's cost so far. Each is one statement, so one transaction: a reader never sees
 * a step row without its event. Fencing: the step row is written only while the run is running under the
 * claim (`attempts`) that makes the write. The SQL of other aggregates' tables (the events, the audit rows,
 * the cost rows' sums) comes from their repositories as fragments, composed here into one statement.
 */

/**
 * The fencing condition of every step write: the run is still running under the claim (its `attempts`) that
 * makes the write. A runner that lost its lease (it stalled past it; the sweeper requeued the run and another
 * claim took it) then writes nothing, so no step is recorded twice.
 */
const fence = (run: `$${number}`, attempts: `$${number}`) =>
  `EXISTS (SELECT 1 FROM agent_runs r WHERE r.id = ${run} AND r.attempts = ${attempts} AND r.status = 'running')`;

/**
 * $1 run, $2 key, $3 workspace, $4 position (NULL: after the run's last step), $5 attempts of the claim.
 * A completed step is returned as is (nothing written); otherwise the row is started or restarted and its
 * `step.started` event appended. No row in `started` (and so no event) when the fence refuses the write.
 * Also the run's cost-row totals as the step begins (CostLogRepository.runTotals' sums: runTotalsSql), which
 * a memory call measures its embedding cost from.
 */
export const BEGIN_STATEMENT: PreparedStatement = {
  name: 'raptorflow_run_step_begin_v2',
  text: `WITH done AS (
      SELECT output FROM agent_run_steps WHERE run_id = $1 AND key = $2 AND status = 'completed'
    ), pos AS (
      SELECT COALESCE($4::int, (SELECT max(position) + 1 FROM agent_run_steps WHERE run_id = $1), 0) AS p
    ), started AS (
      INSERT INTO agent_run_steps (run_id, workspace_id, key, position, status)
      SELECT $1, $3, $2, pos.p, 'running' FROM pos
       WHERE NOT EXISTS (SELECT 1 FROM done) AND ${fence('$1', '$5')}
      ON CONFLICT (run_id, key) DO UPDATE
         SET status = 'running', attempts = agent_run_steps.attempts + 1, started_at = now(), error = NULL,
             completed_at = NULL
       WHERE ${fence('$1', '$5')}
      RETURNING position, attempts
    ), totals AS (
      ${runTotalsSql('$1')}
    ), event AS (
      ${runEventInsertSql(`SELECT $1, $3, 'step.started',
               jsonb_build_object('step', $2::text, 'position', position, 'attempt', attempts)
          FROM started`)}
    )
    SELECT EXISTS (SELECT 1 FROM done) AS completed, (SELECT output FROM done) AS output,
           (SELECT p FROM pos) AS next_position, (SELECT position FROM started) AS position,
           (SELECT attempts FROM started) AS attempts, (SELECT id FROM event) AS event_id,
           totals.input AS run_input_tokens, totals.output AS run_output_tokens, totals.cost AS run_cost_usd
      FROM totals`,
};

/**
 * $1 run, $2 key, $3 attempts of the claim, $4 output (JSON), $5 model, $6 input tokens, $7 output tokens,
 * $8 cost (decimal text), $9 workspace, $10 the step.completed event's data (JSON), $11 audit rows (JSON).
 * The event gets the run's cost so far (the exact SUM of its cost rows) and is appended only with the step row;
 * the audit rows are written either way (the calls they describe happened, whoever holds the run now).
 */
export const COMPLETE_STATEMENT: PreparedStatement = {
  name: 'raptorflow_run_step_complete_v2',
  text: `WITH stored AS (
      UPDATE agent_run_steps
         SET output = $4::jsonb, model = $5, input_tokens = $6, output_tokens = $7, cost_usd = $8::numeric,
             completed_at = now(), status = 'completed'
       WHERE run_id = $1 AND key = $2 AND ${fence('$1', '$3')}
      RETURNING 1
    ), audit AS (
      ${auditInsertFromJsonSql('$11')}
    ), event AS (
      ${runEventInsertSql(`SELECT $1, $9, 'step.completed',
               $10::jsonb || jsonb_build_object('run_cost_usd', (${runCostSumSql('$1')}))
          FROM stored`)}
    )
    SELECT EXISTS (SELECT 1 FROM stored) AS stored`,
};

/**
 * $1 run, $2 key, $3 attempts of the claim, $4 error (JSON), $5 workspace, $6 the step.failed event's data
 * (JSON), $7 audit rows (JSON). The step row is fenced; the event and audit rows are written either way.
 */
export const FAIL_STATEMENT: PreparedStatement = {
  name: 'raptorflow_run_step_fail_v2',
  text: `WITH failed AS (
      UPDATE agent_run_steps SET status = 'failed', error = $4::jsonb, completed_at = now()
       WHERE run_id = $1 AND key = $2 AND ${fence('$1', '$3')}
      RETURNING 1
    ), audit AS (
      ${auditInsertFromJsonSql('$7')}
    ), event AS (
      ${runEventInsertSql(`VALUES ($1, $5, 'step.failed', $6::jsonb)`)}
    )
    SELECT EXISTS (SELECT 1 FROM failed) AS failed`,
};
