import type { Knex } from 'knex';
import type { z } from 'zod';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import { getCorrelationId } from '@raptorflow/core/context/request-context';
import { EXTRA_FLOWS } from '@raptorflow/data/runs/flow-inputs';
import type { FlowName } from '@raptorflow/data/repositories/agent-run.rows';
import type { RunAgent, RunRequestService } from '@raptorflow/events/runs/run-request.service';
import type { createRunBody } from './agent-run.schemas';

export interface AgentRunServiceOptions {
  db: Knex;
  /** Resolves the Lord, checks the input and writes the run with its event (shared with schedule ticks). */
  requests: RunRequestService;
  /** Validates a requested model the way the dispatcher will resolve it, so a bad one fails now, not later. */
  router: ModelRouter;
}

/** Run requests: the row + first event + outbox row, atomically (cancel: RunCancelService). */
export class AgentRunService {
  private readonly db: Knex;
  private readonly requests: RunRequestService;
  private readonly router: ModelRouter;

  constructor(opts: AgentRunServiceOptions) {
    this.db = opts.db;
    this.requests = opts.requests;
    this.router = opts.router;
  }

  /**
   * The run row, its `queued` status event and the `agent.run.requested` outbox row commit together (see
   * RunRequestService, which a schedule's tick shares).
   */
  async create(
    workspaceId: string,
    userId: string,
    body: z.output<typeof createRunBody>,
  ): Promise<{ id: string; status: 'queued' }> {
    const agent = withFlow(await this.requests.agentFor(workspaceId, body.agent), body.flow);
    const input = this.requests.checkInput(agent, body.input);
    if (body.model !== undefined) this.router.resolve(body.model);
    const model = body.model ?? agent.default_model;
    const request = { workspaceId, agent, input, model, requestedBy: userId };
    return this.db.transaction(async (trx) => {
      const id = await this.requests.enqueue(trx, { ...request, correlationId: getCorrelationId() ?? null });
      return { id, status: 'queued' as const };
    });
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
