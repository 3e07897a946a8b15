import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, clientErrorResponse } from './client-error.handler';

let server: Server;
let port: number;
beforeAll(async () => {
  server = answerClientErrors(
    createServer((_req, res) => res.end('ok')),
    { lingerMs: 100 },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Writes raw bytes (in chunks, as a slow client would) and collects the answer until the server closes. */
function exchange(chunks: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      for (const c of chunks) socket.write(c);
    });
    socket.on('data', (d) => {
      received.push(d);
      if (Buffer.concat(received).includes('}')) socket.end();
    });
    // The server may stop reading once it has answered; what matters is what came back.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    socket.on('close', () => resolve(Buffer.concat(received).toString()));
  });
}

function parse(raw: string): { status: number; headers: string; body: any } {
  const split = raw.indexOf('\r\n\r\n');
  return {
    status: Number(raw.slice(9, 12)),
    headers: raw.slice(0, split),
    body: JSON.parse(raw.slice(split + 4)),
  };
}

it('answers oversized headers with a 431 in the error shape, with a correlation id', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: 'x'.repeat(40_000) } });
  expect(res.status).toBe(431);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await res.json()) as any;
  expect(body).toEqual({
    error: { code: 'request_header_too_large', message: expect.any(String) },
    correlation_id: res.headers.get('x-correlation-id'),
  });
  expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
});

it('gets the answer through while the client is still sending a megabyte of headers', async () => {
  const chunks = ['GET / HTTP/1.1\r\nHost: x\r\n'];
  for (let i = 0; i < 64; i++) chunks.push(`X-Fill-${i}: ${'y'.repeat(16_000)}\r\n`);
  const res = parse(await exchange(chunks));
  expect(res.status).toBe(431);
  expect(res.body.error.code).toBe('request_header_too_large');
});

it('answers a malformed request with a 400 in the error shape and closes the connection', async () => {
  const res = parse(await exchange(['NOT HTTP AT ALL\r\n\r\n']));
  expect(res.status).toBe(400);
  expect(res.headers).toMatch(/\r\nConnection: close/);
  expect(res.body).toEqual({
    error: { code: 'bad_request', message: 'The request is not valid HTTP' },
    correlation_id: expect.any(String),
  });
});

it('closes a connection the client keeps open after the answer', async () => {
  const serverSide = new Promise<void>((resolve) =>
    server.once('connection', (s) => s.once('close', () => resolve())),
  );
  // Half-open: this client never closes its side, so only the server's timer can end the connection.
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () =>
    client.write('GET / HTTP/1.1\r\nBad Header\r\n\r\n'),
  );
  const received: Buffer[] = [];
  client.on('data', (d) => received.push(d));
  await new Promise((resolve) => client.once('end', resolve));
  expect(parse(Buffer.concat(received).toString()).status).toBe(400);
  await serverSide;
  client.destroy();
});

it('keeps serving well-formed requests', async () => {
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
});

it('maps request timeouts and chunk extension overflows to their own status', () => {
  expect(clientErrorResponse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' }, 'c')).toMatch(/^HTTP\/1\.1 408 /);
  expect(clientErrorResponse({ code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW' }, 'c')).toMatch(/^HTTP\/1\.1 413 /);
  expect(clientErrorResponse({}, 'c')).toMatch(/^HTTP\/1\.1 400 /);
});
