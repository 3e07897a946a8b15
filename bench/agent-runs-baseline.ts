// The baseline of bench/agent-runs: the research flow compiled and invoked in this process with LangGraph,
// with the real ModelDispatcher on the local provider behind an in-memory StepRunner. No API, outbox, queue,
// lease, step rows, run events, audit rows or run bookkeeping — only what LangGraph and a model call cost.
import { randomUUID } from 'node:crypto';
import { MemorySaver } from '@langchain/langgraph';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Knex } from 'knex';
import pg from 'pg';
import { BudgetLedgerService } from '@raptorflow/llm/budget-ledger.service';
import { DispatchTrailService } from '@raptorflow/llm/dispatch-trail.service';
import { EMPTY_GUARDRAILS, FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { ModelRouter } from '@raptorflow/llm/model-router';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { createModelDispatchTool } from '../services/agent-runner/src/tools/model-dispatch.tool';
import { parseSettings } from '@raptorflow/core/config/settings';
import { FLOWS } from '../services/agent-runner/src/flows/flow-registry';
import { FakeStepRunner } from '../test/support/step-runner.fake';
import type { RunOnce } from './agent-runs-measure';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { getSettings } from '@raptorflow/core/config/settings';
import { getModelCatalog } from '@raptorflow/llm/model-catalog.builder';

export interface BenchAgent {
  id: string;
  key: string;
  name: string;
  domain: string;
  default_model: string;
}

export interface InProcessResearchOptions {
  db: Knex;
  workspaceId: string;
  agent: BenchAgent;
  latencyMs: number;
  /** `memory`: LangGraph's MemorySaver. `postgres`: the runner's PostgresSaver (schema `langgraph`). */
  checkpointer: 'memory' | 'postgres';
  /** Connections of the PostgresSaver's own pool (the runner gives it AGENT_CHECKPOINT_POOL_MAX). */
  checkpointPoolMax?: number;
}

export interface InProcessResearch {
  run: RunOnce<void>;
  close(): Promise<void>;
}

export function createInProcessResearch(o: InProcessResearchOptions): InProcessResearch {
  const settings = parseSettings({
    ...process.env,
    LLM_PROVIDER: 'local',
    LOCAL_PROVIDER_LATENCY_MS: String(o.latencyMs),
  }).llm;
  const bus = new RaptorBus({ db: o.db, prefix: getSettings().queuePrefix });
  // Built as the runner's default ModelDispatcher is: budget admission on, cost rows in the same database.
  const dispatcher = new ModelDispatcher({
    settings,
    router: new ModelRouter({ settings, catalog: getModelCatalog(settings.catalogFile) }),
    ledger: new BudgetLedgerService({
      db: o.db,
      reservationTtlMs: settings.reservationTtlMs,
      defaultBudgetUsd: 50,
    }),
    trail: new DispatchTrailService({ db: o.db, bus, audit: new AuditLogService({ db: o.db }) }),
  });
  const pool =
    o.checkpointer === 'postgres'
      ? new pg.Pool({
          connectionString: process.env.DATABASE_URL,
          max: o.checkpointPoolMax ?? 5,
          application_name: 'raptorflow-bench-checkpoints',
        })
      : undefined;
  const saver: BaseCheckpointSaver = pool
    ? new PostgresSaver(pool, undefined, { schema: 'langgraph' })
    : new MemorySaver();
  const flow = FLOWS.research;
  const graph = flow.compile(saver);
  const model = o.agent.default_model;

  const run: RunOnce<void> = async (i) => {
    const signal = new AbortController().signal;
    const threadId = randomUUID();
    const dispatchTool = createModelDispatchTool(
      { workspace_id: o.workspaceId, agent_id: o.agent.id },
      { dispatcher },
    );
    const steps = new FakeStepRunner({ dispatchTool, model, signal });
    // Parsed like the gateway parses a run's input, so both sides run the same depth (and prompts).
    const input = FLOW_INPUT_SCHEMAS.research.parse({ topic: `bench topic ${i}` });
    const state = await graph.invoke(input, {
      configurable: {
        thread_id: threadId,
        runtime: { steps, guardrails: EMPTY_GUARDRAILS, model, agent: o.agent, signal },
      },
      signal,
    });
    const out = flow.output(state) as { brief: unknown; findings: unknown[] };
    if (!out.brief || out.findings.length === 0) throw new Error(`in-process run ${i} ended without a brief`);
  };

  return {
    run,
    async close() {
      await bus.close();
      await pool?.end();
    },
  };
}
