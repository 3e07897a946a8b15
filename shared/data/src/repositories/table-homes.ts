/**
 * Where each table's SQL lives: one repository file and one row type per table (checked against the schema and
 * the sources by test/integration/table-homes.int.test.ts). Paths are relative to shared/data/src/repositories.
 * Only the home (and its companions) writes the table; a statement of another aggregate that must write it in
 * the same round trip composes a fragment the home exports (e.g. auditInsertFromJsonSql), so the SQL text
 * stays in the home.
 */
export interface TableHome {
  repository: string;
  row: string;
  /** Files of the same aggregate that also write the table: its prepared statements, split out for size. */
  companions?: readonly string[];
}

export const TABLE_HOMES: Readonly<Record<string, TableHome>> = Object.freeze({
  agents: { repository: 'agent.repository.ts', row: 'AgentRow' },
  agent_runs: {
    repository: 'agent-run.repository.ts',
    row: 'AgentRunRow',
    companions: ['agent-run-tree.repository.ts'],
  },
  agent_run_steps: {
    repository: 'agent-run-step.repository.ts',
    row: 'AgentRunStepRow',
    companions: ['agent-run-step.statements.ts'],
  },
  agent_run_events: { repository: 'agent-run-event.repository.ts', row: 'AgentRunEventRow' },
  agent_run_approvals: { repository: 'agent-run-approval.repository.ts', row: 'AgentRunApprovalRow' },
  cost_logs: { repository: 'cost-log.repository.ts', row: 'CostLogRow' },
  cost_rollups: { repository: 'cost-rollup.repository.ts', row: 'CostRollupRow' },
  cost_rollup_folds: { repository: 'cost-rollup.repository.ts', row: 'CostRollupFoldRow' },
  budget_usage: {
    repository: 'budget.repository.ts',
    row: 'BudgetUsageRow',
    companions: ['budget-batch.statements.ts'],
  },
  budget_reservations: {
    repository: 'budget.repository.ts',
    row: 'BudgetReservationRow',
    companions: ['budget-batch.statements.ts'],
  },
  workspace_budgets: { repository: 'budget.repository.ts', row: 'WorkspaceBudgetRow' },
  budget_alerts: { repository: 'budget-alert.repository.ts', row: 'BudgetAlertRow' },
  audit_logs: { repository: 'audit-log.repository.ts', row: 'AuditLogRow' },
  event_outbox: { repository: 'event-outbox.repository.ts', row: 'EventOutboxRow' },
  memory_items: { repository: 'memory-item.repository.ts', row: 'MemoryItemRow' },
  schedules: { repository: 'schedule.repository.ts', row: 'ScheduleRow' },
  schedule_ticks: { repository: 'schedule.repository.ts', row: 'ScheduleTickRow' },
  workspaces: { repository: 'workspace.repository.ts', row: 'WorkspaceRow' },
  workspace_members: { repository: 'workspace.repository.ts', row: 'WorkspaceMemberRow' },
  workspace_guardrails: { repository: 'workspace.repository.ts', row: 'WorkspaceGuardrailRow' },
});
