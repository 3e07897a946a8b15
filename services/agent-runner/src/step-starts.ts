import type {
  AgentRunStepRepository,
  RunTotals,
  StepBegin,
} from '@raptorflow/data/repositories/agent-run-step.repository';
import type { AgentRunRow } from '@raptorflow/data/repositories/agent-run.rows';
import type { RunEventLog } from '@raptorflow/data/runs/run-events';
import { LeaseLostError } from './run-lease.service';

/** A step row this claim started: where it sits, and the run's cost-row totals as it began. */
export interface StartedStep {
  position: number;
  runTotals: RunTotals;
}

/** How a step starts: its output stored by a completed attempt, or running now. */
export type StepStart<T> =
  | { kind: 'stored'; output: T }
  | {
      kind: 'running';
      /** The step's position (known before its row is written). */
      position: number;
      /**
       * Its row and `step.started` event, written meanwhile on a first claim. Rejects with LeaseLostError
       * when the claim is no longer the run's (nothing was written), or with the database's error.
       */
      started: Promise<StartedStep>;
    };

export interface StepStartsOptions {
  steps: AgentRunStepRepository;
  events: Pick<RunEventLog, 'announce'>;
  run: AgentRunRow;
  /**
   * The ends of the steps before (RunSteps): a begin is written after them, so a run's events stay in order
   * (step.completed of one step before step.started of the next); a failed end fails the begin too.
   */
  after?: () => Promise<void>;
}

/**
 * Starts the steps of one claim of a run. On the run's first claim nothing can be stored yet (every step
 * write is fenced by the claim's `attempts`, and no claim came before), so which steps completed and where
 * the next one goes are known here without asking: the step's row and `step.started` event are written while
 * its work (the model call) already runs, and the step's end waits for them. That takes the begin's round
 * trip and commit off the step's path. A later claim (a resumed, re-claimed or woken run) asks first, as
 * a completed step's stored output must come back instead of a second model call.
 */
export class StepStarts {
  /** Position of the next new step; on a later claim, learnt from its first begin. */
  private next: number | undefined;
  private readonly firstClaim: boolean;
  /** Keys begun on this claim, at their positions (a step started again keeps its place). */
  private readonly positions = new Map<string, number>();
  /** Outputs completed on this claim: a key run again returns its output, as the database would. */
  private readonly completed = new Map<string, unknown>();

  constructor(private readonly o: StepStartsOptions) {
    this.firstClaim = o.run.attempts === 1;
    if (this.firstClaim) this.next = 0;
  }

  async start<T>(key: string): Promise<StepStart<T>> {
    if (this.completed.has(key)) return { kind: 'stored', output: this.completed.get(key) as T };
    if (this.firstClaim) {
      let position = this.positions.get(key);
      if (position === undefined) {
        position = this.next!++;
        this.positions.set(key, position);
      }
      const started = this.afterEnds()
        .then(() => this.begin<T>(key, position))
        .then((row) => {
          // Only a completion of this claim could have stored it, and those are answered above.
          if (row.kind === 'stored') throw new Error(`step ${key} was stored before the run's first claim`);
          return row;
        });
      // Awaited by the step's end; until then a rejection is not unhandled.
      started.catch(() => undefined);
      return { kind: 'running', position, started };
    }
    await this.afterEnds();
    const row = await this.begin<T>(key, this.positions.get(key) ?? this.next);
    if (row.kind === 'stored') return row;
    this.positions.set(key, row.position);
    this.next ??= row.nextPosition;
    if (row.position === this.next) this.next++;
    return { kind: 'running', position: row.position, started: Promise.resolve(row) };
  }

  /** The step completed on this claim with `output`. */
  completedWith(key: string, output: unknown): void {
    this.completed.set(key, output);
  }

  private afterEnds(): Promise<void> {
    return this.o.after?.() ?? Promise.resolve();
  }

  private async begin<T>(key: string, position: number | undefined): Promise<StepBegin<T>> {
    const { run } = this.o;
    const row = await this.o.steps.begin<T>(run, { workspace_id: run.workspace_id, key, position });
    if (!row) throw new LeaseLostError(run.id);
    if (row.kind === 'started') this.o.events.announce(run.id);
    return row;
  }
}
