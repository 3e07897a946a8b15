// @vitest-environment node
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseParser, streamEvents } from './sse';
import type { SseMessage } from './sse';

/** A real HTTP server whose handler is swapped per connection: the SSE client reads it through fetch. */
interface Hit {
  lastEventId: string | undefined;
  authorization: string | undefined;
  workspace: string | undefined;
  closed: Promise<void>;
}

let server: http.Server | undefined;

async function serve(
  handlers: Array<(req: http.IncomingMessage, res: http.ServerResponse) => void>,
): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  server = http.createServer((req, res) => {
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    hits.push({
      lastEventId: req.headers['last-event-id'] as string | undefined,
      authorization: req.headers.authorization,
      workspace: req.headers['x-workspace-id'] as string | undefined,
      closed,
    });
    const handler = handlers[hits.length - 1];
    if (!handler) {
      res.statusCode = 500;
      res.end('unexpected connection');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/agent-runs/r1/events`, hits };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function open(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

const frame = (id: number, type: string, data: Record<string, unknown>) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const terminal = (m: SseMessage) =>
  m.event === 'status' && ['completed', 'failed', 'cancelled'].includes(JSON.parse(m.data).status);

const auth = () => ({ Authorization: 'Bearer t0k3n', 'X-Workspace-Id': 'w1' });

describe('SseParser', () => {
  it('parses events split anywhere, with comments, multi-line data, CRLF/CR line ends and retry', () => {
    const got: SseMessage[] = [];
    const text =
      ': ping\n\nretry: 2500\nid: 7\nevent: status\ndata: {"status":\r\ndata: "running"}\r\n\r\n' +
      'data: no type\r\rid: 8\nevent: step.started\ndata:{"step":"plan"}\n\n' +
      'event: ignored-without-data\n\n';
    // Every split point, including between \r and \n.
    for (let cut = 0; cut <= text.length; cut++) {
      got.length = 0;
      const q = new SseParser((m) => got.push(m));
      q.feed(text.slice(0, cut));
      q.feed(text.slice(cut));
      expect(got).toEqual([
        { id: '7', event: 'status', data: '{"status":\n"running"}' },
        { id: '7', event: 'message', data: 'no type' },
        { id: '8', event: 'step.started', data: '{"step":"plan"}' },
      ]);
      expect(q.retry).toBe(2500);
    }
  });

  it('reads a ReadableStream of bytes with multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('id: 1\nevent: step.completed\ndata: {"step":"café ☕"}\n\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(new Uint8Array([b]));
        controller.close();
      },
    });
    const got: SseMessage[] = [];
    const parser = new SseParser((m) => got.push(m));
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    expect(got).toEqual([{ id: '1', event: 'step.completed', data: '{"step":"café ☕"}' }]);
  });
});

describe('streamEvents (over a real HTTP server)', () => {
  it('sends the bearer token and workspace, parses events and stops on a terminal status', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        open(res);
        res.write(': ping\n\n');
        res.write(frame(1, 'status', { status: 'running' }));
        res.write(frame(2, 'step.started', { step: 'plan' }));
        setTimeout(() => res.write(frame(3, 'status', { status: 'completed', cost_usd: 0.01 })), 20);
        // The server keeps the connection open: the client must end it itself.
      },
    ]);
    const got: SseMessage[] = [];
    const end = await streamEvents({
      url,
      headers: auth,
      signal: new AbortController().signal,
      onMessage: (m) => got.push(m),
      isTerminal: terminal,
      retryMs: 10,
    });
    expect(end).toEqual({ reason: 'terminal', lastEventId: '3' });
    expect(got.map((m) => [m.id, m.event])).toEqual([
      ['1', 'status'],
      ['2', 'step.started'],
      ['3', 'status'],
    ]);
    expect(JSON.parse(got[1]!.data)).toMatchObject({ step: 'plan' });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ authorization: 'Bearer t0k3n', workspace: 'w1', lastEventId: undefined });
    await hits[0]!.closed; // the client hung up after the terminal status
  });

  it('reconnects after a dropped stream with Last-Event-ID of the last event seen', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        open(res);
        res.write(frame(41, 'status', { status: 'running' }));
        res.write(frame(42, 'step.started', { step: 'plan' }));
        // Half an event, then the connection drops.
        res.write('id: 43\nevent: step.comp');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      (_req, res) => {
        // The server closes cleanly before the run has ended: still a drop.
        open(res);
        res.end(frame(43, 'step.completed', { step: 'plan', run_cost_usd: 0.002 }));
      },
      (_req, res) => {
        open(res);
        res.write(frame(44, 'status', { status: 'failed', error: { code: 'x', message: 'y' } }));
      },
    ]);
    const got: SseMessage[] = [];
    const states: string[] = [];
    const end = await streamEvents({
      url,
      headers: auth,
      signal: new AbortController().signal,
      onMessage: (m) => got.push(m),
      isTerminal: terminal,
      onStateChange: (s) => states.push(s),
      retryMs: 10,
    });
    expect(end).toEqual({ reason: 'terminal', lastEventId: '44' });
    expect(got.map((m) => m.id)).toEqual(['41', '42', '43', '44']);
    expect(hits.map((h) => h.lastEventId)).toEqual([undefined, '42', '43']);
    expect(hits.every((h) => h.authorization === 'Bearer t0k3n')).toBe(true);
    expect(states).toContain('reconnecting');
  });

  it('resumes from a given event id, and a 204 (nothing left) ends the stream', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        res.statusCode = 204;
        res.end();
      },
    ]);
    const end = await streamEvents({
      url,
      headers: auth,
      lastEventId: '99',
      signal: new AbortController().signal,
      onMessage: () => undefined,
      retryMs: 10,
    });
    expect(end).toEqual({ reason: 'ended', lastEventId: '99' });
    expect(hits[0]!.lastEventId).toBe('99');
  });

  it('retries a 503 and gives up on a 404 with the error body and correlation id', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'service_unavailable', message: 'later' }, correlation_id: 'c1' }),
        );
      },
      (_req, res) => {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'not_found', message: 'Run not found' }, correlation_id: 'c2' }),
        );
      },
    ]);
    const end = await streamEvents({
      url,
      headers: auth,
      signal: new AbortController().signal,
      onMessage: () => undefined,
      retryMs: 10,
    });
    expect(end.reason).toBe('error');
    if (end.reason !== 'error') return;
    expect(end.error).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'Run not found',
      correlationId: 'c2',
    });
    expect(hits).toHaveLength(2);
  });

  it('ends on an in-stream error event (access revoked) without reconnecting', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        open(res);
        res.write(frame(5, 'status', { status: 'running' }));
        res.write(
          `event: error\ndata: ${JSON.stringify({
            type: 'error',
            error: { code: 'permission_denied', message: 'You are no longer a member of this workspace' },
            correlation_id: 'c9',
          })}\n\n`,
        );
        res.end();
      },
    ]);
    const got: SseMessage[] = [];
    const end = await streamEvents({
      url,
      headers: auth,
      signal: new AbortController().signal,
      onMessage: (m) => got.push(m),
      isTerminal: terminal,
      retryMs: 10,
    });
    expect(end.reason).toBe('error');
    if (end.reason !== 'error') return;
    expect(end.error).toMatchObject({ status: 403, code: 'permission_denied', correlationId: 'c9' });
    expect(end.lastEventId).toBe('5');
    expect(got).toHaveLength(1);
    expect(hits).toHaveLength(1);
  });

  it('stops on abort, mid-stream and while waiting to reconnect, and closes the connection', async () => {
    const { url, hits } = await serve([
      (_req, res) => {
        open(res);
        res.write(frame(1, 'status', { status: 'running' }));
      },
    ]);
    const ac = new AbortController();
    const got: SseMessage[] = [];
    const done = streamEvents({
      url,
      headers: auth,
      signal: ac.signal,
      onMessage: (m) => {
        got.push(m);
        setTimeout(() => ac.abort(), 10);
      },
      isTerminal: terminal,
      retryMs: 10,
    });
    const end = await done;
    expect(end).toEqual({ reason: 'aborted', lastEventId: '1' });
    await hits[0]!.closed;
    expect(hits).toHaveLength(1);

    // Aborted during the back-off before a reconnection: no new connection is made.
    const { url: url2, hits: hits2 } = await (async () => {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      return serve([
        (_req, res) => {
          open(res);
          res.end(frame(1, 'status', { status: 'running' }));
        },
      ]);
    })();
    const ac2 = new AbortController();
    const end2 = await streamEvents({
      url: url2,
      headers: auth,
      signal: ac2.signal,
      onMessage: () => undefined,
      onStateChange: (s) => {
        if (s === 'reconnecting') ac2.abort();
      },
      retryMs: 5_000,
    });
    expect(end2).toEqual({ reason: 'aborted', lastEventId: '1' });
    expect(hits2).toHaveLength(1);
  });
});
