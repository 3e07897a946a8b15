import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@raptorflow/core/logging/logger';

interface Answer {
  status: number;
  reason: string;
  code: string;
  message: string;
}

// Node's own answers to requests it cannot parse, with the API's codes; anything else is a plain 400.
const ANSWERS: Record<string, Answer> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'request_header_too_large',
    message: 'The request headers are larger than this server accepts',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    reason: 'Payload Too Large',
    code: 'payload_too_large',
    message: 'The chunk extensions of the request body are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'request_timeout',
    message: 'The request was not received in time',
  },
};
const BAD_REQUEST: Answer = {
  status: 400,
  reason: 'Bad Request',
  code: 'bad_request',
  message: 'The request is not valid HTTP',
};

// A client that keeps the connection open after the answer is cut off after this long.
const LINGER_MS = 5_000;

export interface ClientErrorOptions {
  logger?: Logger;
  /** How long a client may keep the connection after the answer (tests shorten it). */
  lingerMs?: number;
}

/** The raw HTTP response for a request Node refused: the API's error shape, then the connection closes. */
export function clientErrorResponse(err: { code?: string }, correlationId: string = randomUUID()): string {
  const a = (err.code && ANSWERS[err.code]) || BAD_REQUEST;
  const body = JSON.stringify({ error: { code: a.code, message: a.message }, correlation_id: correlationId });
  return [
    `HTTP/1.1 ${a.status} ${a.reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Correlation-Id: ${correlationId}`,
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * A `clientError` listener: requests Node's parser refuses (oversized headers, malformed request lines,
 * header timeouts) never reach Express, so without this they get Node's empty answers instead of the
 * error contract. Attach it to every server that serves the gateway app.
 */
export function clientErrorHandler(
  opts: ClientErrorOptions = {},
): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  const { logger, lingerMs = LINGER_MS } = opts;
  const answered = new WeakSet<Duplex>();
  return (err, socket) => {
    // The parser may report more than once for one connection (the rest of the bytes keep arriving).
    if (answered.has(socket)) return;
    answered.add(socket);
    // As Node does: only answer when nothing of a response is on the wire yet (a pipelined request could
    // fail while an earlier one is being answered), and never on a connection the client already dropped.
    const inFlight = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?._headerSent) {
      socket.destroy();
      return;
    }
    const correlationId = randomUUID();
    logger?.info({ code: err.code, correlation_id: correlationId }, 'request refused by the HTTP parser');
    // end(), not destroy(): closing with the client's unread bytes still arriving would reset the
    // connection and the client could lose the answer. The timer bounds a client that never closes.
    socket.end(clientErrorResponse(err, correlationId));
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/** Attaches clientErrorHandler to a server (main.ts's, and the test servers'). */
export function answerClientErrors<S extends Server>(server: S, opts: ClientErrorOptions = {}): S {
  server.on('clientError', clientErrorHandler(opts));
  return server;
}
