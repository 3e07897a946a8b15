import type { Knex } from 'knex';
import type { AgentRunRepository } from '@raptorflow/data/repositories/agent-run.repository';

/** Between two looks at a waiting run: seeding normally lands within milliseconds of the workspace. */
const SEEDING_RETRY_MS = 500;

export type AgentResolution =
  | { kind: 'resolved'; agentId: string }
  /** Not seeded yet, still within the wait: ask again in `retryInMs` (the run stays queued meanwhile). */
  | { kind: 'waiting'; retryInMs: number }
  | { kind: 'never_seeded'; error: { code: 'agent_not_seeded'; message: string } };

export interface RunAgentResolverOptions {
  runs: AgentRunRepository;
  /** From the run's request: how long its agent may take to appear before the run fails. */
  seedingWaitMs: number;
  retryMs?: number;
}

/**
 * The gateway accepts a run for a Council agent its workspace does not have a row for yet (the seeder works
 * through `workspace.created` asynchronously), so the agent is looked up when the run starts. Ages are read
 * from the database clock, the one that wrote `created_at`, so runner clocks never matter.
 */
export class RunAgentResolver {
  readonly seedingWaitMs: number;
  private readonly retryMs: number;
  private readonly runs: AgentRunRepository;

  constructor(opts: RunAgentResolverOptions) {
    this.runs = opts.runs;
    this.seedingWaitMs = opts.seedingWaitMs;
    // A tuning constant rather than a dependency: tests shorten it.
    this.retryMs = opts.retryMs ?? SEEDING_RETRY_MS;
  }

  async resolve(
    trx: Knex.Transaction,
    run: { id: string; workspace_id: string; agent_key: string },
  ): Promise<AgentResolution> {
    const row = await this.runs.agentAndWait(trx, run.id);
    if (row?.agent_id) return { kind: 'resolved', agentId: row.agent_id };
    const left = this.seedingWaitMs - Number(row?.waited_ms ?? this.seedingWaitMs);
    if (left > 0) {
      // Jitter spreads the looks of many runs queued for one new workspace.
      const next = this.retryMs + Math.round(Math.random() * (this.retryMs / 2));
      return { kind: 'waiting', retryInMs: Math.max(1, Math.min(left, next)) };
    }
    const message =
      `No agent "${run.agent_key}" in this workspace after waiting ${this.seedingWaitMs} ms: ` +
      "the workspace's Council of Lords was never seeded";
    return { kind: 'never_seeded', error: { code: 'agent_not_seeded', message } };
  }
}
