import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { getSettings } from '@raptorflow/core/config/settings';
import { getLogger } from '@raptorflow/core/logging/logger';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { AgentRunService } from '../../services/agent-runner/src/agent-run.service';
import { FLOWS } from '../../services/agent-runner/src/flows/flow-registry';
import { RunAgentResolver } from '../../services/agent-runner/src/run-agent-resolver.service';
import { RunControlRegistry } from '../../services/agent-runner/src/run-control.registry';
import { RunLeaseService } from '../../services/agent-runner/src/run-lease.service';
import { RunSweeper } from '../../services/agent-runner/src/run-sweeper.service';
import type { TestStack } from './stack';

/**
 * The agent-runner's object graph for in-process tests, wired as its main.ts does: every dependency explicit,
 * with the configured values unless a test overrides one.
 */
export function runEventLog(stack: TestStack): RunEventLog {
  return new RunEventLog({ db: stack.db, prefix: stack.prefix });
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
  });
}

export function agentRunService(
  stack: TestStack,
  o: { lease: RunLeaseService; checkpointer: BaseCheckpointSaver; dispatcher: ModelDispatcher },
): AgentRunService {
  return new AgentRunService({
    ...o,
    db: stack.db,
    events: runEventLog(stack),
    audit: new AuditLogService({ db: stack.db }),
    controls: new RunControlRegistry({ logger: getLogger() }),
    flows: FLOWS,
    timeoutMs: getSettings().agentRuns.timeoutMs,
    logger: getLogger(),
  });
}
