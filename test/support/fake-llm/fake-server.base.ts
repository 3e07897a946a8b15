import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the fake does with one call. `delayMs` may go on any behaviour (or stand alone: the default answer,
 * late). `hang` holds the response open until the client goes away, like a stuck upstream. `until` holds an
 * answer until the test lets it go (the test's hook into "the provider answered at this moment").
 */
export type FakeBehaviour<Ok> =
  | { ok: Ok; delayMs?: number; until?: Promise<unknown> }
  | FakeStatusBehaviour
  | { malformed: true | 'not-json' | 'html' | 'wrong-shape'; delayMs?: number }
  | { hang: true }
  | { delayMs: number };

export interface FakeStatusBehaviour {
  status: number;
  /** Sent as the `Retry-After` header, verbatim (seconds or an HTTP-date). */
  retryAfter?: string;
  /** Sent as Anthropic's `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Google only: a `google.rpc.RetryInfo` detail in the error body, e.g. `"2s"`, as the Gemini API sends. */
  retryDelay?: string;
  message?: string;
  delayMs?: number;
}

export interface RecordedRequest {
  model: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  /** Answered as a stream (Server-Sent Events). */
  stream: boolean;
}

export interface FakeRoute {
  model: string;
  /** The call asked for a streamed answer (Server-Sent Events). */
  stream?: boolean;
}

/** One Server-Sent Events frame of a streamed answer; `piece` when it carries a piece of the text. */
export interface SseFrame {
  data: string;
  piece?: boolean;
}

/** How a streamed answer goes out; any success behaviour's `ok` may carry these. */
export interface FakeStreamPacing {
  /** The answer's text is cut into this many pieces (default 4; fewer when the text is shorter). */
  chunks?: number;
  /** Waited before each piece after the first: a slow model, for tests that watch text arrive. */
  chunkDelayMs?: number;
  /** The connection is cut after this many text pieces: a stream that breaks mid-answer. */
  breakAfterChunks?: number;
}

/** The prompt side of a request, in each wire format: what the default usage numbers are computed from. */
export interface PromptStats {
  promptChars: number;
  maxTokens: number;
}

// The default answer's length in tokens when max_tokens allows it: short, but not a trivially small number.
export const DEFAULT_OUTPUT_TOKENS = 50;

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

const ANY_MODEL = '*';

/**
 * A real HTTP server on 127.0.0.1:0 that the real SDKs talk to. Subclasses supply the wire format (routes,
 * success and error bodies); this class owns the per-model script, call counting and request recording.
 */
export abstract class FakeLlmServer<Ok extends object> {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts = new Map<string, FakeBehaviour<Ok>[]>();
  private readonly defaults = new Map<string, FakeBehaviour<Ok>>();
  private server: http.Server | undefined;
  private baseUrl: string | undefined;

  /** The path's model, or undefined for a path this API does not serve (answered 404). */
  protected abstract route(method: string, pathname: string): FakeRoute | undefined;
  protected abstract promptStats(body: any): PromptStats;
  protected abstract okBody(model: string, body: any, ok: Ok, stats: PromptStats): unknown;
  protected abstract errorBody(status: number, message: string, behaviour?: FakeStatusBehaviour): unknown;
  /** A streamed answer's SSE frames, one per text piece (marked `piece`) plus the format's framing, in order. */
  protected abstract streamFrames(
    model: string,
    body: any,
    ok: Ok,
    stats: PromptStats,
    pieces: string[],
  ): SseFrame[];
  /** The answer's text, which a streamed answer is cut from. */
  protected abstract answerText(model: string, body: any, ok: Ok): string;
  /** The model to count the call under, when the path alone does not name it. */
  protected modelFromBody(route: FakeRoute, _body: any): string {
    return route.model;
  }
  /** Extra headers a real error response carries (request ids and the like). */
  protected errorHeaders(_status: number): Record<string, string> {
    return {};
  }

  /** Queues behaviours for `model`'s next calls, in order; when they run out the default applies again. */
  script(model: string, ...behaviours: FakeBehaviour<Ok>[]): this {
    this.scripts.set(model, [...(this.scripts.get(model) ?? []), ...behaviours]);
    return this;
  }

  /** The behaviour once the script is used up: for one model, or for every model when none is given. */
  setDefault(behaviour: FakeBehaviour<Ok>, model: string = ANY_MODEL): this {
    this.defaults.set(model, behaviour);
    return this;
  }

  callCount(model?: string): number {
    return model === undefined ? this.requests.length : this.requests.filter((r) => r.model === model).length;
  }

  lastRequest(model?: string): RecordedRequest | undefined {
    return [...this.requests].reverse().find((r) => model === undefined || r.model === model);
  }

  /** Forgets scripts, defaults and recorded calls (between tests). */
  reset(): void {
    this.requests.length = 0;
    this.scripts.clear();
    this.defaults.clear();
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('fake server is not started');
    return this.baseUrl;
  }

  async start(): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake server failure: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = undefined;
    // Hanging calls and keep-alive sockets would hold close() open forever.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private next(model: string): FakeBehaviour<Ok> {
    const queued = this.scripts.get(model)?.shift();
    return (
      queued ?? this.defaults.get(model) ?? this.defaults.get(ANY_MODEL) ?? ({ ok: {} } as FakeBehaviour<Ok>)
    );
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const pathname = new URL(req.url ?? '/', 'http://fake').pathname;
    const route = this.route(req.method ?? 'GET', pathname);
    if (!route) {
      this.sendJson(res, 404, this.errorBody(404, `no route for ${req.method} ${pathname}`));
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const model = this.modelFromBody(route, body);
    const stream = route.stream === true || body?.stream === true;
    this.requests.push({
      model,
      method: req.method ?? '',
      path: pathname,
      headers: req.headers,
      body,
      stream,
    });
    const behaviour = this.next(model);

    if ('hang' in behaviour) {
      // Never answer; the socket closes when the client aborts (or stop() tears everything down).
      await new Promise<void>((resolve) => res.once('close', () => resolve()));
      return;
    }
    if (behaviour.delayMs) {
      const closed = await delay(behaviour.delayMs, res);
      if (closed) return;
    }
    if ('until' in behaviour && behaviour.until) {
      const closed = await Promise.race([
        behaviour.until.then(() => false),
        new Promise<boolean>((resolve) => res.once('close', () => resolve(true))),
      ]);
      if (closed) return;
    }
    if ('status' in behaviour) {
      const headers: Record<string, string> = { ...this.errorHeaders(behaviour.status) };
      if (behaviour.retryAfter !== undefined) headers['retry-after'] = behaviour.retryAfter;
      if (behaviour.retryAfterMs !== undefined) headers['retry-after-ms'] = String(behaviour.retryAfterMs);
      const message = behaviour.message ?? defaultMessage(behaviour.status);
      this.sendJson(res, behaviour.status, this.errorBody(behaviour.status, message, behaviour), headers);
      return;
    }
    if ('malformed' in behaviour) {
      if (behaviour.malformed === 'wrong-shape') this.sendJson(res, 200, { unexpected: true, items: [] });
      else if (behaviour.malformed === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>502 upstream connect error</body></html>');
      } else {
        // Declared JSON, cut off mid-body: what a dropped proxy connection leaves behind.
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"id": "trunc", "content": [{"type": "te');
      }
      return;
    }
    const ok = 'ok' in behaviour ? behaviour.ok : ({} as Ok);
    if (stream) return this.sendStream(res, model, body, ok);
    this.sendJson(res, 200, this.okBody(model, body, ok, this.promptStats(body)));
  }

  private async sendStream(res: http.ServerResponse, model: string, body: any, ok: Ok): Promise<void> {
    const pacing = ok as FakeStreamPacing;
    const text = this.answerText(model, body, ok);
    const frames = this.streamFrames(
      model,
      body,
      ok,
      this.promptStats(body),
      pieces(text, pacing.chunks ?? 4),
    );
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    let sent = 0;
    let pieceCount = 0;
    for (const frame of frames) {
      if (frame.piece && pacing.breakAfterChunks !== undefined && pieceCount >= pacing.breakAfterChunks) {
        // What was written reaches the client first (FIN after the data, not a reset that may drop it);
        // the response's chunked body never ends, which the client reads as a broken stream.
        res.socket?.end();
        return;
      }
      if (sent > 0 && pacing.chunkDelayMs && (await delay(pacing.chunkDelayMs, res))) return;
      await new Promise<void>((resolve) => res.write(frame.data, () => resolve()));
      sent++;
      if (frame.piece) pieceCount++;
    }
    res.end();
  }

  private sendJson(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }
}

/** `text` cut into `n` pieces of about equal length (at least one, none empty unless the text is). */
function pieces(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Rate limit exceeded';
  if (status === 529) return 'Overloaded';
  if (status >= 500) return 'Internal server error';
  return 'Bad request';
}

/** Waits `ms` unless the client hangs up first; true when it did (nothing left to answer). */
function delay(ms: number, res: http.ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(t);
      resolve(true);
    };
    const t = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    res.once('close', onClose);
  });
}
