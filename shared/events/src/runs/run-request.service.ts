import type { Knex } from 'knex';
import type { z } from 'zod';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import type { LordDefinition } from '@raptorflow/data/domain/council-of-lords';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRepository } from '@raptorflow/data/repositories/agent.repository';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { RaptorBus } from '../bus/raptor-bus';

/** The Lord a run is for. */
export interface RunAgent {
  /** Null when the workspace's Lords are not seeded yet: the runner finds the row when the run starts. */
  id: string | null;
  key: string;
  default_flow: FlowName;
  default_model: string;
}

export interface RunRequest {
  workspaceId: string;
  agent: RunAgent;
  /** Already checked against the flow's input schema (see `checkInput`). */
  input: Record<string, unknown>;
  model: string;
  requestedBy: string | null;
  correlationId: string | null;
}

export interface RunRequestServiceOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  /** The Council every workspace is seeded with: what a run may ask for before its workspace is seeded. */
  lords?: readonly LordDefinition[];
}

/**
 * How a run comes to exist, wherever it is asked for (the API, a schedule's tick): the Lord is resolved,
 * the input checked against its flow, and the run row, its `queued` status event and `agent.run.requested`
 * commit in the caller's transaction, so the runner never receives a run that does not exist and no run is
 * left without the event that starts it.
 */
export class RunRequestService {
  private readonly runs: AgentRunRepository;
  private readonly agents: AgentRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  private readonly lords: readonly LordDefinition[];

  constructor(opts: RunRequestServiceOptions) {
    this.runs = new AgentRunRepository(opts.db);
    this.agents = new AgentRepository(opts.db);
    this.bus = opts.bus;
    this.events = opts.events;
    // Data, not a dependency: the Council is the same everywhere unless a test narrows it.
    this.lords = opts.lords ?? COUNCIL_OF_LORDS;
  }

  /**
   * The workspace's agent row; else, for a Council key, the Council definition the seeder will write that row
   * from (seeding is asynchronous: a run asked for right after the workspace was created is still accepted).
   */
  async agentFor(workspaceId: string, key: string, field = 'body.agent'): Promise<RunAgent> {
    const row = await this.agents.findByKey(workspaceId, key);
    if (row) return row;
    const lord = this.lords.find((l) => l.key === key);
    if (lord) return { id: null, key, default_flow: lord.default_flow, default_model: lord.default_model };
    const message = `no agent "${key}" in this workspace (see GET /v1/agents)`;
    throw new ValidationFailedError(message, [{ path: field, message: 'not an agent of this workspace' }]);
  }

  /** The input as the agent's flow takes it (defaults filled in); a 422 naming `<field>.<key>` otherwise. */
  checkInput(agent: RunAgent, input: unknown, field = 'body.input'): Record<string, unknown> {
    const schema = FLOW_INPUT_SCHEMAS[agent.default_flow] as z.ZodType<Record<string, unknown>>;
    return parseOrThrow(schema, input, field);
  }

  async enqueue(trx: Knex.Transaction, r: RunRequest): Promise<string> {
    const id = await this.runs.insertQueued(trx, {
      workspace_id: r.workspaceId,
      agent_id: r.agent.id,
      agent_key: r.agent.key,
      flow: r.agent.default_flow,
      model: r.model,
      input: r.input,
      requested_by: r.requestedBy,
      correlation_id: r.correlationId,
    });
    await this.events.append({ id, workspace_id: r.workspaceId }, 'status', { status: 'queued' }, trx);
    await this.bus.publish(
      'agent.run.requested',
      { agent_run_id: id, agent_key: r.agent.key },
      { trx, workspaceId: r.workspaceId },
    );
    return id;
  }
}
