import type { Knex } from 'knex';
import type { z } from 'zod';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { ConflictError, NotFoundError, ValidationFailedError } from '@raptorflow/core/errors/app-error';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import { runCancelChannel } from '@raptorflow/data/runs/run-events';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';
import { AgentRepository } from '@raptorflow/data/repositories/agent.repository';
import { createRedis } from '@raptorflow/core/redis/redis.factory';
import { getCorrelationId } from '@raptorflow/core/context/request-context';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { LordDefinition } from '@raptorflow/data/domain/council-of-lords';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import type { createRunBody } from './agent-run.schemas';
import { toRunView } from './agent-run.views';
import type { RunView } from './agent-run.views';

export interface AgentRunServiceOptions {
  db: Knex;
  bus: RaptorBus;
  events: RunEventLog;
  /** Validates a requested model the way the dispatcher will resolve it, so a bad one fails now, not later. */
  router: ModelRouter;
  /** Fail-fast connection the cancel nudge is published on. */
  redis?: Redis;
  prefix: string;
  logger: Logger;
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

export type CancelOutcome =
  | { kind: 'cancelled'; run: RunView }
  | { kind: 'requested'; id: string; status: 'running'; cancel_requested: true };

/** Run writes: the request (row + first event + outbox row, atomically) and cancellation. */
export class AgentRunService {
  private readonly db: Knex;
  private readonly runs: AgentRunRepository;
  private readonly agents: AgentRepository;
  private readonly bus: RaptorBus;
  private readonly events: RunEventLog;
  private readonly router: ModelRouter;
  private redis: Redis | undefined;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly lords: readonly LordDefinition[];

  constructor(opts: AgentRunServiceOptions) {
    this.db = opts.db;
    this.runs = new AgentRunRepository(opts.db);
    this.agents = new AgentRepository(opts.db);
    this.bus = opts.bus;
    this.prefix = opts.prefix;
    this.redis = opts.redis;
    this.events = opts.events;
    this.router = opts.router;
    this.logger = opts.logger;
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
    const agent = await this.agentFor(workspaceId, body.agent);
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

  /**
   * A queued run is cancelled here and now. A running one belongs to its runner: we only mark the request
   * (idempotently) and nudge the runner after commit; it stops at its next step boundary and writes the end.
   */
  async cancel(workspaceId: string, id: string): Promise<CancelOutcome> {
    const outcome = await this.db.transaction(async (trx): Promise<CancelOutcome> => {
      const status = await this.runs.lockStatus(trx, workspaceId, id);
      if (!status) throw new NotFoundError('Run not found');
      if (status === 'queued') {
        const row = await this.runs.cancelQueued(trx, id, {
          code: 'cancelled',
          message: 'Cancelled before it started',
        });
        await this.events.append({ id, workspace_id: workspaceId }, 'status', { status: 'cancelled' }, trx);
        return { kind: 'cancelled', run: toRunView(row) };
      }
      if (status === 'running') {
        await this.runs.requestCancel(trx, id);
        return { kind: 'requested', id, status: 'running', cancel_requested: true };
      }
      throw new ConflictError(`The run already ended (${status}); there is nothing to cancel`, { status });
    });
    if (outcome.kind === 'requested') await this.nudgeRunner(id);
    return outcome;
  }

  private async nudgeRunner(id: string): Promise<void> {
    this.redis ??= createRedis('producer');
    try {
      await this.redis.publish(runCancelChannel(this.prefix), id);
    } catch (err) {
      // cancel_requested_at is committed either way: a runner that checks its row still finds the request.
      this.logger.warn(
        { err, agent_run_id: id },
        'run cancel not announced (Redis); the request stays on the row',
      );
    }
  }
}
