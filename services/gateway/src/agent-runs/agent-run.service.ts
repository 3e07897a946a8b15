import type { Knex } from 'knex';
import type { z } from 'zod';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { EXTRA_FLOWS, FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { AgentRepository } from '@raptorflow/data/repositories/agent.repository';
import { getCorrelationId } from '@raptorflow/core/context/request-context';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { LordDefinition } from '@raptorflow/data/domain/council-of-lords';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { createRunBody } from './agent-run.schemas';

export interface AgentRunServiceOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  /** Validates a requested model the way the dispatcher will resolve it, so a bad one fails now, not later. */
  router: ModelRouter;
  /** The Council every workspace is seeded with: what a run may ask for before its workspace is seeded. */
  lords?: readonly LordDefinition[];
}

interface RunAgent {
  /** Null when the workspace's Lords are not seeded yet: the runner finds the row when the run starts. */
  id: string | null;
  key: string;
  default_flow: FlowName;
  default_model: string;
}

/** Run requests: the row + first event + outbox row, atomically (cancel: RunCancelService). */
export class AgentRunService {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly agents: AgentRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  private readonly router: ModelRouter;
  private readonly lords: readonly LordDefinition[];

  constructor(opts: AgentRunServiceOptions) {
    this.db = opts.db;
    this.runs = new AgentRunRepository(opts.db);
    this.agents = new AgentRepository(opts.db);
    this.bus = opts.bus;
    this.events = opts.events;
    this.router = opts.router;
    // Data, not a dependency: the Council is the same everywhere unless a test narrows it.
    this.lords = opts.lords ?? COUNCIL_OF_LORDS;
  }

  /**
   * The run row, its `queued` status event and the `agent.run.requested` outbox row commit together: the
   * runner never receives a run that does not exist, and no run is left without the event that starts it.
   */
  async create(
    workspaceId: string,
    userId: string,
    body: z.output<typeof createRunBody>,
  ): Promise<{ id: string; status: 'queued' }> {
    const agent = withFlow(await this.agentFor(workspaceId, body.agent), body.flow);
    const schema = FLOW_INPUT_SCHEMAS[agent.default_flow] as z.ZodType<Record<string, unknown>>;
    const input = parseOrThrow(schema, body.input, 'body.input');
    if (body.model !== undefined) this.router.resolve(body.model);
    const model = body.model ?? agent.default_model;

    return this.db.transaction(async (trx) => {
      const id = await this.runs.insertQueued(trx, {
        workspace_id: workspaceId,
        agent_id: agent.id,
        agent_key: agent.key,
        flow: agent.default_flow,
        model,
        input,
        requested_by: userId,
        correlation_id: getCorrelationId() ?? null,
      });
      await this.events.append({ id, workspace_id: workspaceId }, 'status', { status: 'queued' }, trx);
      await this.bus.publish(
        'agent.run.requested',
        { agent_run_id: id, agent_key: agent.key },
        { trx, workspaceId },
      );
      return { id, status: 'queued' as const };
    });
  }

  /**
   * The workspace's agent row; else, for a Council key, the Council definition the seeder will write that row
   * from (seeding is asynchronous: a run asked for right after the workspace was created is still accepted).
   */
  private async agentFor(workspaceId: string, key: string): Promise<RunAgent> {
    const row = await this.agents.findByKey(workspaceId, key);
    if (row) return row;
    const lord = this.lords.find((l) => l.key === key);
    if (lord) return { id: null, key, default_flow: lord.default_flow, default_model: lord.default_model };
    const message = `no agent "${key}" in this workspace (see GET /v1/agents)`;
    throw new ValidationFailedError(message, [
      { path: 'body.agent', message: 'not an agent of this workspace' },
    ]);
  }
}

/** The run's flow: the agent's default, or another one the agent runs (Strategos's campaign); 422 otherwise. */
function withFlow(agent: RunAgent, flow: FlowName | undefined): RunAgent {
  if (flow === undefined || flow === agent.default_flow) return agent;
  if (EXTRA_FLOWS[agent.key]?.includes(flow)) return { ...agent, default_flow: flow };
  throw new ValidationFailedError(`The agent "${agent.key}" does not run the ${flow} flow`, [
    { path: 'body.flow', message: `not a flow of ${agent.key}` },
  ]);
}
