import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { getSettings } from '@raptorflow/core/config/settings';
import { getLogger } from '@raptorflow/core/logging/logger';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import type { MemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { MemoryService } from '@raptorflow/memory/memory.service';
import { AgentRunService } from '../../services/agent-runner/src/agent-run.service';
import { FLOWS } from '../../services/agent-runner/src/flows/flow-registry';
import { RunAgentResolver } from '../../services/agent-runner/src/run-agent-resolver.service';
import { RunControlRegistry } from '../../services/agent-runner/src/run-control.registry';
import { RunLeaseService } from '../../services/agent-runner/src/run-lease.service';
import { RunMemory } from '../../services/agent-runner/src/run-memory.service';
import { RunSweeper } from '../../services/agent-runner/src/run-sweeper.service';
import { RunTree } from '../../services/agent-runner/src/run-tree.service';
import { ScheduleTickService } from '../../services/agent-runner/src/schedule-tick.service';
import { ScheduleRepository } from '@raptorflow/data/repositories/schedule.repository';
import { RunRequestService } from '@raptorflow/events/runs/run-request.service';
import { ScheduleTimerService } from '@raptorflow/events/runs/schedule-timer.service';
import { budgetLedger } from './ledger';
import type { TestStack } from './stack';

/**
 * The agent-runner's object graph for in-process tests, wired as its main.ts does: every dependency explicit,
 * with the configured values unless a test overrides one.
 */
export function runEventLog(stack: TestStack): RunEventLog {
  return new RunEventLog({ db: stack.db, prefix: stack.prefix });
}

/** Run trees and approval pauses, as the runner builds them. */
export function runTree(stack: TestStack, approvalTtlMs = getSettings().agentRuns.approvalTtlMs): RunTree {
  return new RunTree({ db: stack.db, bus: stack.bus, events: runEventLog(stack), approvalTtlMs });
}

export function agentResolver(stack: TestStack, seedingWaitMs = getSettings().agentRuns.seedingWaitMs) {
  return new RunAgentResolver({ runs: new AgentRunRepository(stack.db), seedingWaitMs });
}

export function runLease(
  stack: TestStack,
  owner: string,
  o: { leaseMs?: number; workspaceConcurrency?: number; agents?: RunAgentResolver } = {},
): RunLeaseService {
  const s = getSettings().agentRuns;
  return new RunLeaseService({
    db: stack.db,
    events: runEventLog(stack),
    owner,
    leaseMs: o.leaseMs ?? s.leaseMs,
    workspaceConcurrency: o.workspaceConcurrency ?? s.workspaceConcurrency,
    agents: o.agents ?? agentResolver(stack),
    tree: runTree(stack),
  });
}

export function runSweeper(
  stack: TestStack,
  o: { leaseMs?: number; retentionHours?: number } = {},
): RunSweeper {
  const s = getSettings().agentRuns;
  return new RunSweeper({
    db: stack.db,
    bus: stack.bus,
    leaseMs: o.leaseMs ?? s.leaseMs,
    retentionHours: o.retentionHours ?? s.checkpointRetentionHours,
    logger: getLogger(),
    tree: runTree(stack),
  });
}

/**
 * The runner's memory over the test database. The exact path by default: it answers on any database, with
 * or without pgvector's index (pass detectMemorySearchPath()'s answer to test the index path).
 */
export function runMemory(
  stack: TestStack,
  dispatcher: ModelDispatcher,
  path: MemorySearchPath = 'exact',
): RunMemory {
  const items = new MemoryItemRepository(stack.db);
  const audit = new AuditLogService({ db: stack.db });
  return new RunMemory({
    memory: new MemoryService({ db: stack.db, items, dispatcher, audit, path }),
    items,
  });
}

export function agentRunService(
  stack: TestStack,
  o: {
    lease: RunLeaseService;
    checkpointer: BaseCheckpointSaver;
    dispatcher: ModelDispatcher;
    memory?: RunMemory;
  },
): AgentRunService {
  return new AgentRunService({
    ...o,
    memory: o.memory ?? runMemory(stack, o.dispatcher),
    db: stack.db,
    events: runEventLog(stack),
    audit: new AuditLogService({ db: stack.db }),
    controls: new RunControlRegistry({ logger: getLogger() }),
    tree: runTree(stack),
    flows: FLOWS,
    timeoutMs: getSettings().agentRuns.timeoutMs,
    logger: getLogger(),
  });
}

/** The runner's schedule tick handler over the test stack (the budget as configured). */
export function scheduleTicks(stack: TestStack): ScheduleTickService {
  return new ScheduleTickService({
    db: stack.db,
    schedules: new ScheduleRepository(stack.db),
    requests: new RunRequestService({ db: stack.db, bus: stack.bus, events: runEventLog(stack) }),
    budgets: budgetLedger(stack.db),
    timers: new ScheduleTimerService(stack.bus),
    audit: new AuditLogService({ db: stack.db }),
    logger: getLogger(),
  });
}
