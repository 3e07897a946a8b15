/** A small Server-Sent Events client over fetch: enough of the text/event-stream format to test a server. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Comment lines (`: ping`) received so far, without the colon. */
  comments: string[];
  /** Resolves once `count` events have arrived in total (rejects after timeoutMs). */
  waitForEvents(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream; rejects after timeoutMs. */
  ended(timeoutMs?: number): Promise<SseEvent[]>;
  isEnded(): boolean;
  close(): void;
}

export async function openSse(
  url: string,
  opts: { token?: string; headers?: Record<string, string> } = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let done = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  let buffer = '';
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  const dispatch = () => {
    if (current.data.length > 0) {
      const raw = current.data.join('\n');
      let data: unknown = raw;
      try {
        data = JSON.parse(raw);
      } catch {
        /* not JSON: keep the text */
      }
      events.push({ id: current.id, event: current.event ?? 'message', data });
    }
    current = { data: [] };
  };
  const feed = (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') dispatch();
      else if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') current.data.push(value);
        else if (field === 'id') current.id = value;
        else if (field === 'event') current.event = value;
      }
    }
    notify();
  };

  void (async () => {
    try {
      if (!res.body) return;
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        feed(decoder.decode(chunk, { stream: true }));
    } catch {
      /* aborted by close() */
    } finally {
      done = true;
      notify();
    }
  })();

  const until = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = ready();
        if (v === undefined) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    waitForEvents: (count, timeoutMs = 5_000) =>
      until(
        () => (events.length >= count ? events.slice() : done ? events.slice() : undefined),
        timeoutMs,
        `no ${count} events`,
      ).then((got) => {
        if (got.length < count) throw new Error(`the stream ended after ${got.length} of ${count} events`);
        return got;
      }),
    ended: (timeoutMs = 5_000) => until(() => (done ? events.slice() : undefined), timeoutMs, 'not ended'),
    isEnded: () => done,
    close: () => abort.abort(),
  };
}
