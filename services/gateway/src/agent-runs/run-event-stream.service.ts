import type { Response } from 'express';
import { PermissionDeniedError } from '@raptorflow/core/errors/app-error';
import { TERMINAL_STATUSES } from '@raptorflow/data/repositories/agent-run.rows';
import { getCorrelationId } from '@raptorflow/core/context/request-context';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RunDelta, RunEventLog, RunEventRow } from '@raptorflow/data/runs/run-events';
import type { RunStatus } from '@raptorflow/data/repositories/agent-run.rows';
import type { RunEventHub, RunWatcher } from './run-event.hub';
import type { AccessHolder, RunStreamAccess } from './run-stream-access.service';

const PAGE = 500;
/** Deltas one stream holds while it reads (a slow database must not grow them without bound). */
const MAX_WAITING_DELTAS = 200;

/** Who the stream was opened for: its access is re-checked as long as it is open. */
export interface StreamReader {
  userId: string;
  workspaceId: string;
}

export interface RunEventStreamServiceOptions {
  hub: RunEventHub;
  /** Ends a stream when its reader stops being a member of the run's workspace. */
  access: RunStreamAccess;
  events: RunEventLog;
  /** A comment line this often keeps proxies from closing an idle stream and finds dead clients. */
  heartbeatMs?: number;
  logger: Logger;
}

/**
 * Serves a run's event log as Server-Sent Events: first what the client has not seen (everything after its
 * Last-Event-ID), then new events as they are committed, until a terminal `status` event. Events come only
 * from the database, so a replay and a live stream carry the same ids in the same order.
 */
export class RunEventStreamService {
  private readonly hub: RunEventHub;
  private readonly access: RunStreamAccess;
  private readonly events: RunEventLog;
  private readonly heartbeatMs: number;
  private readonly logger: Logger;

  constructor(opts: RunEventStreamServiceOptions) {
    this.hub = opts.hub;
    this.access = opts.access;
    this.events = opts.events;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.logger = opts.logger;
  }

  async open(
    res: Response,
    run: { id: string; status: RunStatus },
    afterId: number,
    reader: StreamReader,
  ): Promise<void> {
    const endedAtConnect = TERMINAL_STATUSES.includes(run.status);
    const stream = new LiveStream(run.id, afterId, res, this.events, this.logger, reader);
    // Watched from before the backlog is read, so a removal while it is read is not missed.
    const untrack = this.access.track(stream);
    let backlog: RunEventRow[];
    try {
      backlog = await this.events.since(run.id, afterId, PAGE);
    } catch (err) {
      untrack();
      throw err;
    }
    if (stream.revoked) {
      untrack();
      throw new PermissionDeniedError('You are no longer a member of this workspace');
    }
    // Nothing left to say about a finished run. 204 is also the one answer that stops a browser's
    // EventSource from reconnecting forever to a stream that has ended.
    if (endedAtConnect && backlog.length === 0) {
      untrack();
      res.status(204).end();
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    // nginx (and proxies that honour it) would otherwise hold events back in its buffer.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    stream.started = true;

    // A stream held for a re-check sends no backlog now: it is read again from afterId when resumed.
    if (!stream.held && !stream.write(backlog)) return untrack();
    // A client gone while the backlog was read has already emitted 'close': nothing would clean up after it.
    if (res.destroyed || res.socket?.destroyed !== false) return untrack();
    const unwatch = this.hub.watch(stream);
    const heartbeat = setInterval(() => stream.ping(), this.heartbeatMs);
    res.once('close', () => {
      stream.closed = true;
      clearInterval(heartbeat);
      unwatch();
      untrack();
    });
    // Whatever was committed between the backlog read and the watch is caught here, not lost.
    stream.wake(endedAtConnect);
  }
}

function isTerminal(e: RunEventRow): boolean {
  return e.type === 'status' && TERMINAL_STATUSES.includes(e.data.status as RunStatus);
}

/** Wire format: `id: <row id>`, `event: <type>`, `data: {run_id, type, ...data, at}`. */
function frame(e: RunEventRow): string {
  const data = Object.assign({ run_id: e.run_id, type: e.type }, e.data, {
    run_id: e.run_id,
    type: e.type,
    at: e.created_at.toISOString(),
  });
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

class LiveStream implements RunWatcher, AccessHolder {
  closed = false;
  /** The 200 and its headers have gone out. */
  started = false;
  /** Access is being re-checked: nothing is sent meanwhile. */
  held = false;
  revoked = false;
  readonly userId: string;
  readonly workspaceId: string;
  private busy = false;
  private again = false;
  /** Steps whose `step.started` this stream has sent: their deltas go out at once. */
  private readonly startedSteps = new Set<string>();
  /** Deltas of a step whose `step.started` this stream has not sent yet: they wait for the next read. */
  private waitingDeltas: string[] = [];
  private runEnded = false;
  private readonly correlationId: string | undefined;

  constructor(
    readonly runId: string,
    public lastId: number,
    private readonly res: Response,
    private readonly events: RunEventLog,
    private readonly logger: Logger,
    reader: StreamReader,
  ) {
    this.userId = reader.userId;
    this.workspaceId = reader.workspaceId;
    // The request's, for the final error event, which is sent from outside the request's context.
    this.correlationId = getCorrelationId();
  }

  hold(): void {
    this.held = true;
  }

  resume(): void {
    if (!this.held || this.closed) return;
    this.held = false;
    void this.pump();
  }

  /** A last `error` event (no `id:`, so a reconnect resumes after the last run event sent), then the end. */
  revoke(): void {
    if (this.revoked || this.closed) return;
    this.revoked = true;
    this.held = true;
    // Before the headers went out, open() answers 403 itself.
    if (!this.started) return;
    const data = {
      run_id: this.runId,
      type: 'error',
      error: { code: 'permission_denied', message: 'You are no longer a member of this workspace' },
      correlation_id: this.correlationId ?? null,
      at: new Date().toISOString(),
    };
    this.res.write(`event: error\ndata: ${JSON.stringify(data)}\n\n`);
    this.end();
  }

  wake(runEnded: boolean): void {
    if (runEnded) this.runEnded = true;
    void this.pump();
  }

  ping(): void {
    if (!this.closed) this.res.write(': ping\n\n');
  }

  /**
   * A `step.delta` frame without `id:`: the browser's last event id stays the last stored event's, so a
   * reconnect resumes after it and gets the step's final text in `step.completed`, not the deltas again.
   * Nothing is sent while access is being re-checked or after it was revoked.
   */
  delta(d: RunDelta): void {
    if (this.closed || this.held || !this.started || d.run_id !== this.runId) return;
    const data = {
      run_id: d.run_id,
      type: 'step.delta',
      step: d.step,
      attempt: d.attempt,
      text: d.text,
      at: d.at,
    };
    const sse = `event: step.delta\ndata: ${JSON.stringify(data)}\n\n`;
    if (this.startedSteps.has(d.step) && this.waitingDeltas.length === 0) {
      this.res.write(sse);
      return;
    }
    // The runner sends a step's text only once its step.started has committed, but this stream may not
    // have read that row yet (the nudge and the delta race here): read first, then send, so a client never
    // sees a step's text before the step.
    if (this.waitingDeltas.length < MAX_WAITING_DELTAS) this.waitingDeltas.push(sse);
    void this.pump();
  }

  /** Deltas held for a read, in order, once it is done (sent even if the read failed: they are live only). */
  private sendWaitingDeltas(): void {
    if (this.waitingDeltas.length === 0) return;
    const frames = this.waitingDeltas;
    this.waitingDeltas = [];
    if (this.closed || this.held) return;
    for (const f of frames) this.res.write(f);
  }

  /** Sends the rows; false once the stream has ended (a terminal status was among them). */
  write(rows: RunEventRow[]): boolean {
    for (const e of rows) {
      if (this.closed) return false;
      this.res.write(frame(e));
      this.lastId = e.id;
      if (e.type === 'step.started' && typeof e.data.step === 'string') this.startedSteps.add(e.data.step);
      if (isTerminal(e)) {
        this.end();
        return false;
      }
    }
    return !this.closed;
  }

  /** One reader at a time: wakes arriving mid-read only ask for one more round. */
  private async pump(): Promise<void> {
    if (this.closed || this.held) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        // Read the flag before the rows: events committed with the final status are then in this read.
        const ended = this.runEnded;
        const rows = await this.events.since(this.runId, this.lastId, PAGE);
        // Held while reading: these rows wait for the re-check (resume() reads them again).
        if (this.held) return;
        if (!this.write(rows)) return;
        if (rows.length === PAGE) this.again = true;
        else if (ended) return this.end();
      } while (this.again && !this.closed);
    } catch (err) {
      this.logger.debug({ err, agent_run_id: this.runId }, 'run event read failed; the poll retries');
    } finally {
      this.busy = false;
      this.sendWaitingDeltas();
    }
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }
}
