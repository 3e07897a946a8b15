import { ApiError, errorFromResponse } from './errors';

/**
 * Server-Sent Events over `fetch`: a browser's EventSource cannot send `Authorization`, so the run's event
 * stream is read here instead, with the same reconnect rules (`Last-Event-ID`, `retry:`).
 */

export interface SseMessage {
  /** The `id:` in force when the event was dispatched (the last one seen), or null before any. */
  id: string | null;
  /** `event:`, "message" when the event named none. */
  event: string;
  data: string;
}

/**
 * An incremental parser of the text/event-stream format (HTML Living Standard §9.2.6): lines end in CRLF, LF
 * or CR (also across chunk boundaries), `:` starts a comment, a blank line dispatches, `data:` lines join
 * with "\n", `id:` persists until changed, `retry:` takes digits only.
 */
export class SseParser {
  private buffer = '';
  private lastCharWasCR = false;
  private data: string[] = [];
  private eventType = '';
  private lastEventId: string | null = null;
  /** The reconnection delay the server asked for, if any. */
  retry: number | null = null;

  constructor(
    private readonly onMessage: (m: SseMessage) => void,
    initialLastEventId: string | null = null,
  ) {
    this.lastEventId = initialLastEventId;
  }

  get lastId(): string | null {
    return this.lastEventId;
  }

  feed(chunk: string): void {
    let text = chunk;
    if (this.lastCharWasCR && text.startsWith('\n')) text = text.slice(1);
    this.lastCharWasCR = false;
    this.buffer += text;
    for (;;) {
      const at = this.buffer.search(/[\r\n]/);
      if (at === -1) return;
      const line = this.buffer.slice(0, at);
      let next = at + 1;
      if (this.buffer[at] === '\r') {
        if (next < this.buffer.length) {
          if (this.buffer[next] === '\n') next++;
        } else {
          this.lastCharWasCR = true;
        }
      }
      this.buffer = this.buffer.slice(next);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const event = this.eventType || 'message';
    const data = this.data;
    this.data = [];
    this.eventType = '';
    if (data.length === 0) return;
    this.onMessage({ id: this.lastEventId, event, data: data.join('\n') });
  }
}

export type StreamEnd =
  | { reason: 'terminal'; lastEventId: string | null }
  /** 204: the run has ended and nothing is left after lastEventId. */
  | { reason: 'ended'; lastEventId: string | null }
  | { reason: 'aborted'; lastEventId: string | null }
  | { reason: 'error'; lastEventId: string | null; error: ApiError };

export type StreamState = 'connecting' | 'open' | 'reconnecting';

export interface StreamOptions {
  url: string;
  /** Headers for each (re)connection: read again every time, so a refreshed token is used. */
  headers: () => Record<string, string>;
  signal: AbortSignal;
  onMessage: (m: SseMessage) => void;
  /** The message after which the stream is over (a run's terminal status). */
  isTerminal?: (m: SseMessage) => boolean;
  /** Resume after this event id (sent as Last-Event-ID on the first connection too). */
  lastEventId?: string | null;
  onStateChange?: (state: StreamState) => void;
  fetch?: typeof fetch;
  /** First reconnection delay (doubled on each failed attempt, up to maxRetryMs); `retry:` overrides it. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Statuses not worth trying again: the request itself is wrong or not allowed. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 409, 410, 422]);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads an SSE endpoint until a terminal message, a 204, a final error or an abort. A dropped connection
 * (network error, server closing early, 5xx, 429) reconnects with `Last-Event-ID` set to the last event id
 * seen, after `retry:` or a doubling back-off. An `event: error` message (e.g. the reader lost access) ends
 * the stream with that error.
 */
export async function streamEvents(opts: StreamOptions): Promise<StreamEnd> {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = opts.retryMs ?? 1_000;
  const max = opts.maxRetryMs ?? 15_000;
  let lastEventId = opts.lastEventId ?? null;
  let serverRetry: number | null = null;
  let failures = 0;
  const { signal } = opts;

  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return { reason: 'aborted', lastEventId };
    if (attempt > 0) {
      opts.onStateChange?.('reconnecting');
      const delay = serverRetry ?? Math.min(max, base * 2 ** Math.max(0, failures - 1));
      await sleep(delay, signal);
      if (signal.aborted) return { reason: 'aborted', lastEventId };
    }
    opts.onStateChange?.('connecting');

    const headers: Record<string, string> = {
      Accept: 'text/event-stream',
      ...opts.headers(),
    };
    if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;

    let response: Response;
    try {
      response = await doFetch(opts.url, { headers, signal, cache: 'no-store' });
    } catch {
      if (signal.aborted) return { reason: 'aborted', lastEventId };
      failures++;
      continue;
    }
    if (response.status === 204) return { reason: 'ended', lastEventId };
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (FINAL_STATUSES.has(response.status)) return { reason: 'error', lastEventId, error };
      const after = Number(response.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) serverRetry = after * 1_000;
      failures++;
      continue;
    }
    if (!response.body) {
      failures++;
      continue;
    }

    opts.onStateChange?.('open');
    let end: StreamEnd | null = null;
    const parser = new SseParser((m) => {
      if (end) return;
      lastEventId = m.id;
      if (m.event === 'error') {
        end = { reason: 'error', lastEventId, error: streamError(m, response) };
        return;
      }
      opts.onMessage(m);
      if (opts.isTerminal?.(m)) end = { reason: 'terminal', lastEventId };
    }, lastEventId);

    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let received = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received = true;
        parser.feed(decoder.decode(value, { stream: true }));
        if (end) break;
      }
    } catch {
      // Dropped mid-stream (or aborted): handled below.
    }
    if (parser.retry !== null) serverRetry = parser.retry;
    if (end || signal.aborted) {
      reader.cancel().catch(() => undefined);
    }
    if (end) return end;
    if (signal.aborted) return { reason: 'aborted', lastEventId };
    // The stream ended before the run did: reconnect. A stream that delivered something resets the back-off.
    failures = received ? 1 : failures + 1;
  }
}

function streamError(m: SseMessage, response: Response): ApiError {
  try {
    const body = JSON.parse(m.data) as { error?: { code?: unknown } };
    const status = body.error?.code === 'permission_denied' ? 403 : response.status;
    return ApiError.from(new Response(null, { status, headers: response.headers }), body);
  } catch {
    return new ApiError(response.status, 'stream_error', m.data || 'The event stream failed.', null);
  }
}
