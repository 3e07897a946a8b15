import type { Knex } from 'knex';
import { AppError } from '@raptorflow/core/errors/app-error';
import { AgentRepository } from '@raptorflow/data/repositories/agent.repository';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import {
  AgentRunTreeRepository,
  OPEN_STATUSES,
} from '@raptorflow/data/repositories/agent-run-tree.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import type { ChildRunRequest, ChildRuns } from './flows/flow.types';
import { LeaseLostError } from './run-lease.service';
import type { RunTree } from './run-tree.service';

/**
 * Thrown through the graph when a stage's child has not ended yet: not a failure. The runner parks the parent
 * (no lease, no slot) and the node runs again from its start when a child's end wakes the parent.
 */
export class ChildrenPendingSignal extends Error {
  constructor(readonly childIds: string[]) {
    super(`waiting for ${childIds.length} child run(s)`);
    this.name = 'ChildrenPendingSignal';
  }
}

/** A child run that failed or was cancelled ends its parent (a domain failure: not retried). */
export class ChildRunFailedError extends AppError {
  constructor(stage: string, child: Pick<AgentRunRow, 'id' | 'status' | 'error'>) {
    super(
      'child_run_failed',
      422,
      `The ${stage} stage's run ${child.id} ended ${child.status}` +
        (child.error ? ` (${child.error.code}: ${child.error.message})` : ''),
      { stage, child_run_id: child.id, child_error: child.error },
    );
  }
}

export interface RunChildrenOptions {
  db: Knex;
  tree: RunTree;
  events: RunEventLog;
  /** The parent and this process's lease identity: a child is created only while this claim holds it. */
  parent: AgentRunRow;
  owner: string;
  /**
   * The ends of the run's steps so far (RunSteps.settled): a child is created after them, so the parent's
   * timeline keeps its order and a failed end stops the flow before any child starts.
   */
  after?: () => Promise<void>;
}

/** The ChildRuns of one parent run (see flow.types.ts). */
export class RunChildren implements ChildRuns {
  private readonly runs: AgentRunRepository;
  private readonly treeRows: AgentRunTreeRepository;
  private readonly agents: AgentRepository;

  constructor(private readonly o: RunChildrenOptions) {
    this.runs = new AgentRunRepository(o.db);
    this.treeRows = new AgentRunTreeRepository(o.db);
    this.agents = new AgentRepository(o.db);
  }

  async run(stage: string, req: ChildRunRequest): Promise<Record<string, unknown>> {
    const [out] = await this.runAll([{ stage, ...req }]);
    return out!;
  }

  async runAll(
    reqs: ReadonlyArray<{ stage: string } & ChildRunRequest>,
  ): Promise<Array<Record<string, unknown>>> {
    await this.o.after?.();
    const pending: string[] = [];
    const outputs: Array<Record<string, unknown>> = [];
    for (const req of reqs) {
      const child = (await this.treeRows.child(this.o.parent.id, req.stage)) ?? (await this.create(req));
      if (OPEN_STATUSES.includes(child.status)) {
        pending.push(child.id);
        continue;
      }
      if (child.status !== 'completed') throw new ChildRunFailedError(req.stage, child);
      outputs.push(child.output ?? {});
    }
    if (pending.length > 0) throw new ChildrenPendingSignal(pending);
    return outputs;
  }

  /** The child row, its queued event, its `agent.run.requested` and the parent's timeline entry, at once. */
  private async create(req: { stage: string } & ChildRunRequest) {
    const { parent } = this.o;
    const agent = await this.agents.findByKey(parent.workspace_id, req.agent);
    if (!agent) throw new Error(`no agent "${req.agent}" in workspace ${parent.workspace_id}`);
    const input = FLOW_INPUT_SCHEMAS[agent.default_flow].parse(req.input);
    await this.o.db.transaction(async (trx) => {
      if (!(await this.runs.lockHeld(trx, parent, this.o.owner))) throw new LeaseLostError(parent.id);
      const { id, created } = await this.treeRows.ensureChild(trx, parent, {
        stage: req.stage,
        agent_id: agent.id,
        agent_key: agent.key,
        flow: agent.default_flow,
        // The parent's model for every stage: one request decides what the whole campaign runs on.
        model: parent.model,
        input,
      });
      if (!created) return;
      const child = { id, workspace_id: parent.workspace_id };
      await this.o.events.append(child, 'status', { status: 'queued' }, trx);
      await this.o.events.append(
        parent,
        'child.queued',
        { stage: req.stage, child_run_id: id, agent: agent.key, flow: agent.default_flow },
        trx,
      );
      await this.o.tree.wake(trx, id, parent, agent.key);
    });
    return (await this.treeRows.child(parent.id, req.stage))!;
  }
}
