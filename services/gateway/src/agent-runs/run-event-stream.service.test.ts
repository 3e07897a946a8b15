import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { Logger } from '@raptorflow/core/logging/logger';
import type { RunDelta, RunEventLog, RunEventRow } from '@raptorflow/data/runs/run-events';
import type { RunEventHub, RunWatcher } from './run-event.hub';
import type { RunStreamAccess } from './run-stream-access.service';
import { RunEventStreamService } from './run-event-stream.service';

const RUN = 'run-1';

function row(id: number, type: string, data: Record<string, unknown>): RunEventRow {
  return { id, run_id: RUN, type, data, created_at: new Date(0) } as unknown as RunEventRow;
}

function delta(step: string, text: string): RunDelta {
  return { run_id: RUN, step, attempt: 1, text, at: new Date(0).toISOString() };
}

/** An SSE response that records what it is sent, as event names in order. */
function sseResponse() {
  const sent: string[] = [];
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    socket: { destroyed: false },
    status: () => res,
    setHeader: () => undefined,
    flushHeaders: () => undefined,
    write: (chunk: string) => {
      const event = /^event: (\S+)/m.exec(chunk)?.[1];
      const text = /"text":"([^"]*)"/.exec(chunk)?.[1];
      sent.push(text ? `${event}:${text}` : event!);
      return true;
    },
    end: () => undefined,
  });
  return { res: res as unknown as Response, sent };
}

/** The event log, whose reads the test releases one at a time. */
function eventLog(rows: RunEventRow[]) {
  const reads: Array<() => void> = [];
  const log = {
    since: (_run: string, afterId: number) =>
      new Promise<RunEventRow[]>((resolve) => reads.push(() => resolve(rows.filter((r) => r.id > afterId)))),
  };
  const release = async () => {
    while (reads.length === 0) await new Promise((r) => setImmediate(r));
    reads.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { log: log as unknown as RunEventLog, rows, release };
}

async function openStream(log: RunEventLog, release: () => Promise<void>) {
  let watcher: RunWatcher | undefined;
  const hub = { watch: (w: RunWatcher) => ((watcher = w), () => undefined) } as unknown as RunEventHub;
  const access = { track: () => () => undefined } as unknown as RunStreamAccess;
  const service = new RunEventStreamService({
    hub,
    access,
    events: log,
    logger: {} as Logger,
    heartbeatMs: 60_000,
  });
  const { res, sent } = sseResponse();
  const opened = service.open(res, { id: RUN, status: 'running' }, 0, { userId: 'u', workspaceId: 'w' });
  await release(); // the backlog
  await opened;
  await release(); // the read open() makes after watching
  // The client leaves: stops the heartbeat timer at the end of the test.
  const close = () => void (res as unknown as EventEmitter).emit('close');
  return { watcher: watcher!, sent, close };
}

describe('step.delta frames on a run event stream', () => {
  it('wait for the step.started the stream has not read yet (a nudge and a delta racing)', async () => {
    const { log, rows, release } = eventLog([row(1, 'status', { status: 'running' })]);
    const { watcher, sent, close } = await openStream(log, release);
    // The runner commits step.started, then sends the step's text: the nudge arrives, its read is under way,
    // and the delta arrives before the read has returned.
    rows.push(row(2, 'step.started', { step: 'plan' }));
    watcher.wake(false);
    watcher.delta!(delta('plan', 'Hel'));
    watcher.delta!(delta('plan', 'lo'));
    expect(sent).toEqual(['status']);
    await release();
    // The deltas asked for one more read while the nudge's was under way: they go out after it.
    expect(sent).toEqual(['status', 'step.started']);
    await release();
    expect(sent).toEqual(['status', 'step.started', 'step.delta:Hel', 'step.delta:lo']);
    // Once the step is known, its text goes out at once, without a read.
    watcher.delta!(delta('plan', '!'));
    expect(sent.at(-1)).toBe('step.delta:!');
    close();
  });

  it('read first when a delta comes before any nudge of its step', async () => {
    const { log, rows, release } = eventLog([row(1, 'status', { status: 'running' })]);
    const { watcher, sent, close } = await openStream(log, release);
    rows.push(row(2, 'step.started', { step: 'gather' }));
    watcher.delta!(delta('gather', 'x'));
    expect(sent).toEqual(['status']);
    await release();
    expect(sent).toEqual(['status', 'step.started', 'step.delta:x']);
    close();
  });
});
