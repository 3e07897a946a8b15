import { Command } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { Knex } from 'knex';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { AgentRunStepRepository } from '@raptorflow/data/repositories/agent-run-step.repository';
import { AgentRepository } from '@raptorflow/data/repositories/agent.repository';
import { AuditLogRepository } from '@raptorflow/data/repositories/audit-log.repository';
import { WorkspaceRepository } from '@raptorflow/data/repositories/workspace.repository';
import { CostLogRepository } from '@raptorflow/data/repositories/cost-log.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import { EMPTY_GUARDRAILS, guardrailRulesSchema } from '@raptorflow/data/runs/flow-inputs';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { RetryLaterError } from '@raptorflow/events/worker/worker-runtime';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { createModelDispatchTool } from './tools/model-dispatch.tool';
import { isAppError } from '@raptorflow/core/errors/app-error';
import { withAudit } from './tools/audited-tool';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { FlowDefinition, FlowGraph } from './flows/flow.types';
import { LeaseLostError } from './run-lease.service';
import type { RunLeaseService } from './run-lease.service';
import type { RunControlRegistry } from './run-control.registry';
import type { AbortReason } from './run-control.registry';
import type { RunMemory } from './run-memory.service';
import { RunSteps } from './run-steps.service';
import { StepOrderedCheckpointer } from './step-ordered.checkpointer';
import { inSpan } from '@raptorflow/core/telemetry/spans';
import type { ApprovalRequest } from './flows/approval-gate';
import { ChildrenPendingSignal, RunChildren } from './run-children.service';
import type { RunTree } from './run-tree.service';

/** How a flow's invocation ended: with its output, waiting for child runs, or stopped at an approval gate. */
type FlowOutcome =
  | { kind: 'output'; output: Record<string, unknown> }
  | { kind: 'children'; childIds: string[] }
  | { kind: 'approval'; request: ApprovalRequest };

export interface AgentRunServiceOptions {
  lease: RunLeaseService;
  checkpointer: BaseCheckpointSaver;
  db: Knex;
  events: RunEventLog;
  dispatcher: ModelDispatcher;
  audit: AuditLogService;
  /** The Council's memory as steps recall from and remember into it. */
  memory: RunMemory;
  controls: RunControlRegistry;
  /** Child runs, parking, approval pauses and the cancel of a run's children. */
  tree: RunTree;
  flows: Record<string, FlowDefinition>;
  timeoutMs: number;
  logger: Logger;
}

/** How long a run waiting for its workspace's slot sits in the delayed set before it asks again. */
const CAP_RETRY_MS = 1_000;
/** How long an aborted run waits for its in-flight step to write its cancelled call and failure. */
const STEP_SETTLE_MS = 3_000;

/**
 * Executes one `agent.run.requested`: claims the run, runs its flow from the last checkpoint (or from the
 * start), and ends it as completed, failed or cancelled. Domain failures (budget, model, input) end the run
 * for good; infrastructure failures give the lease back and let BullMQ retry, resuming where it stopped.
 */
export class AgentRunService {
  private readonly db: Knex;
  private readonly steps: AgentRunStepRepository;
  private readonly auditRows: AuditLogRepository;
  private readonly costs: CostLogRepository;
  private readonly agents: AgentRepository;
  private readonly workspaces: WorkspaceRepository;
  private readonly events: RunEventLog;
  private readonly dispatcher: ModelDispatcher;
  private readonly audit: AuditLogService;
  private readonly controls: RunControlRegistry;
  private readonly flows: Record<string, FlowDefinition>;
  private readonly graphs = new Map<string, FlowGraph>();
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  /** The flows' checkpointer, writing past a step only once its end is committed. */
  private readonly checkpointer: BaseCheckpointSaver;

  constructor(private readonly o: AgentRunServiceOptions) {
    this.db = o.db;
    this.steps = new AgentRunStepRepository(o.db);
    this.auditRows = new AuditLogRepository(o.db);
    this.costs = new CostLogRepository(o.db);
    this.agents = new AgentRepository(o.db);
    this.workspaces = new WorkspaceRepository(o.db);
    this.events = o.events;
    this.dispatcher = o.dispatcher;
    this.audit = o.audit;
    this.controls = o.controls;
    this.flows = o.flows;
    this.timeoutMs = o.timeoutMs;
    this.logger = o.logger;
    // The checkpoint's config carries the invocation's configurable, and so the claim's own step runner: a
    // stalled earlier claim of the same run, still in this process, has its own.
    this.checkpointer = new StepOrderedCheckpointer(
      o.checkpointer,
      (config) =>
        (
          config.configurable as { runtime?: { steps?: RunSteps } } | undefined
        )?.runtime?.steps?.settled?.() ?? Promise.resolve(),
    );
  }

  /** `isLastAttempt`: BullMQ will not retry, so an infrastructure failure must end the run here. */
  async execute(runId: string, isLastAttempt = false): Promise<{ status: string }> {
    const claim = await inSpan(
      'run claim',
      { attributes: { 'raptorflow.agent_run_id': runId } },
      async (span) => {
        const c = await this.o.lease.claim(runId);
        span.setAttribute('raptorflow.claim', c.kind);
        return c;
      },
    );
    if (claim.kind === 'done') return { status: 'skipped' };
    if (claim.kind === 'wait')
      throw new RetryLaterError(CAP_RETRY_MS + Math.round(Math.random() * 500), 'workspace at its cap');
    if (claim.kind === 'held') throw new RetryLaterError(claim.retryInMs, 'held by another runner');
    // Still queued, no attempt used and no worker slot held while the seeder catches up.
    if (claim.kind === 'unseeded')
      throw new RetryLaterError(claim.retryInMs, 'agent not seeded in its workspace yet');
    if (claim.kind === 'failed') {
      this.logger.warn({ agent_run_id: runId, code: claim.error.code }, claim.error.message);
      return { status: 'failed' };
    }
    const run = claim.run;
    const log = this.logger.child({ agent_run_id: run.id, workspace_id: run.workspace_id, flow: run.flow });
    if (run.cancel_requested_at) return this.endCancelled(run, 'Cancelled');

    const controller = this.controls.register(run.id);
    // Time parked for children or paused at an approval gate is not the run's own: the timeout skips it.
    const elapsed =
      Date.now() - new Date(run.started_at ?? Date.now()).getTime() - Number(run.paused_ms ?? 0);
    const timer = setTimeout(() => controller.abort('timeout'), Math.max(0, this.timeoutMs - elapsed));
    const heartbeat = setInterval(
      () => {
        this.o.lease
          .renew(run)
          .then(({ held, cancelRequested }) => {
            // This attempt only: a later claim of the run may be executing in this process too.
            if (!held) controller.abort('lease_lost');
            else if (cancelRequested) this.controls.abort(run.id, 'cancelled');
          })
          .catch((err: unknown) => log.warn({ err }, 'lease renewal failed; retrying'));
      },
      Math.max(250, Math.floor(this.o.lease.leaseMs / 3)),
    );
    const work: { steps?: RunSteps } = {};
    try {
      const outcome = await inSpan(
        `run ${run.flow}`,
        {
          attributes: {
            'raptorflow.agent_run_id': run.id,
            'raptorflow.workspace_id': run.workspace_id,
            'raptorflow.flow': run.flow,
            'raptorflow.resumed': claim.resumed,
          },
        },
        () => this.runFlow(run, controller.signal, claim.resumed, work),
      );
      if (outcome.kind === 'children') {
        // No lease and no slot while the children work (a parent holding a slot its children need could
        // starve them under the workspace cap); the first child to end wakes it.
        const parked = await this.o.tree.park(run, this.o.lease.owner, outcome.childIds);
        return { status: parked ? 'waiting_for_children' : 'lease_lost' };
      }
      if (outcome.kind === 'approval') {
        const gate = outcome.request.gate;
        const paused = await this.o.tree.pauseForApproval(run, this.o.lease.owner, gate, {
          ...outcome.request,
        });
        return { status: paused ? 'awaiting_approval' : 'lease_lost' };
      }
      // Refused when a later claim took the run while this attempt stalled: that claim finishes it.
      const finished = await this.o.lease.finish(run, 'completed', { output: outcome.output });
      return { status: finished ? 'completed' : 'lease_lost' };
    } catch (err) {
      const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
      if (reason) await work.steps?.idle(STEP_SETTLE_MS);
      if (reason === 'lease_lost' || err instanceof LeaseLostError) {
        // Stop the rest of this attempt (its in-flight calls) at once: the run is another claim's now.
        if (!controller.signal.aborted) controller.abort('lease_lost');
        log.warn('lease lost; another runner owns the run now');
        return { status: 'lease_lost' };
      }
      if (reason === 'cancelled') return this.endCancelled(run, 'Cancelled while running');
      if (reason === 'timeout') {
        const message = `The run did not finish within ${this.timeoutMs} ms`;
        await this.o.lease.finish(run, 'failed', { error: { code: 'timeout', message } });
        return { status: 'failed' };
      }
      if (isAppError(err) || isLastAttempt) {
        const error = isAppError(err)
          ? { code: err.code, message: err.message }
          : { code: 'internal_error', message: 'The run failed after its last attempt' };
        log.warn({ err, code: error.code }, 'run failed');
        await this.o.lease.finish(run, 'failed', { error });
        return { status: 'failed' };
      }
      // Infrastructure trouble: hand the run back so the retry (here or elsewhere) resumes it at once.
      await this.o.lease.release(run).catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
      this.controls.unregister(run.id, controller);
    }
  }

  /**
   * A cancelled run's children are cancelled with it; the run ends once none is running any more (until then
   * it waits parked, so its cost includes what they spent before they stopped).
   */
  private async endCancelled(run: AgentRunRow, message: string): Promise<{ status: string }> {
    const running = await this.o.tree.cancelChildren(run);
    if (running.length > 0) {
      const parked = await this.o.tree.park(run, this.o.lease.owner, running);
      return { status: parked ? 'waiting_for_children' : 'lease_lost' };
    }
    await this.o.lease.finish(run, 'cancelled', { error: { code: 'cancelled', message } });
    return { status: 'cancelled' };
  }

  private async runFlow(
    run: AgentRunRow,
    signal: AbortSignal,
    resumed: boolean,
    work: { steps?: RunSteps },
  ): Promise<FlowOutcome> {
    const flow = this.flows[run.flow];
    if (!flow) throw new Error(`no flow "${run.flow}"`);
    let graph = this.graphs.get(run.flow);
    if (!graph) {
      graph = flow.compile(this.checkpointer);
      this.graphs.set(run.flow, graph);
    }
    const agent = run.agent_id ? await this.agents.persona(run.agent_id) : undefined;
    const rules = await this.workspaces.guardrails(run.workspace_id);
    const parsedRules = guardrailRulesSchema.safeParse(rules?.rules ?? {});
    const ctx = {
      workspace_id: run.workspace_id,
      actor_user_id: run.requested_by ?? undefined,
      agent_id: run.agent_id ?? undefined,
      agent_run_id: run.id,
      correlation_id: run.correlation_id ?? undefined,
    };
    const dispatchTool = withAudit(createModelDispatchTool(ctx, { dispatcher: this.dispatcher }), ctx, {
      audit: this.audit,
    });
    const steps = new RunSteps({
      steps: this.steps,
      audit: this.auditRows,
      costs: this.costs,
      events: this.events,
      run,
      model: run.model,
      dispatchTool,
      memory: this.o.memory,
      signal,
    });
    work.steps = steps;
    const config = {
      configurable: {
        thread_id: run.id,
        runtime: {
          steps,
          guardrails: parsedRules.success ? parsedRules.data : EMPTY_GUARDRAILS,
          model: run.model,
          agent: agent ?? { key: run.agent_key, name: run.agent_key, domain: '' },
          children: new RunChildren({
            db: this.db,
            tree: this.o.tree,
            events: this.events,
            parent: run,
            owner: this.o.lease.owner,
            after: () => steps.settled(),
          }),
          signal,
        },
      },
      signal,
    };
    // A run that already has a checkpoint continues from it; a first attempt starts from its input.
    const checkpoint = resumed
      ? await this.checkpointer.getTuple({ configurable: { thread_id: run.id } })
      : undefined;
    let input: Record<string, unknown> | null | Command = checkpoint ? null : run.input;
    if (checkpoint) {
      // Stopped at an approval gate: resume it with the decision (the gate's node runs again and gets it).
      const pending = await this.pendingGate(graph, run.id);
      if (pending) {
        const decided = await this.o.tree.decision(run.id, pending.gate);
        if (!decided) return { kind: 'approval', request: pending };
        input = new Command({
          resume: {
            decision: decided.decision,
            content: decided.edited_content,
            decided_by: decided.decided_by,
            note: decided.note,
          },
        });
      }
    }
    let state: Record<string, unknown>;
    try {
      // A Command is every graph's input type, but typed per graph's state and nodes: cast at this one call.
      state = await graph.invoke(input as Record<string, unknown> | null, config);
      // The last steps' ends may still be on their way: the run ends after them (or with their failure).
      await steps.settled();
    } catch (err) {
      // A step's end that failed is the cause of what followed (a refused checkpoint, a refused begin).
      const ended = await steps.settled().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (ended !== undefined) throw ended;
      if (err instanceof ChildrenPendingSignal) return { kind: 'children', childIds: err.childIds };
      throw err;
    }
    signal.throwIfAborted();
    const interrupts = state.__interrupt__ as Array<{ value?: ApprovalRequest }> | undefined;
    if (interrupts?.[0]?.value) return { kind: 'approval', request: interrupts[0].value };
    return { kind: 'output', output: flow.output(state) };
  }

  private async pendingGate(graph: FlowGraph, runId: string): Promise<ApprovalRequest | undefined> {
    const snapshot = await graph.getState({ configurable: { thread_id: runId } });
    const value = snapshot.tasks.flatMap((t) => t.interrupts)[0]?.value as ApprovalRequest | undefined;
    return value?.gate ? value : undefined;
  }
}
