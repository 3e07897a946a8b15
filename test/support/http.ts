import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { answerClientErrors } from '../../services/gateway/src/edge/client-error.handler';
import { checkResponse } from './response-check';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * `app` on a random port. `serve` makes the server (the gateway passes createGatewayServer, as main.ts
 * listens); Express's own app.listen by default.
 */
export async function listen(
  app: Express,
  serve: (listener: RequestListener) => Server = createServer,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    // As main.ts does: requests Node's parser refuses are answered in the error shape too.
    const s = answerClientErrors(serve(app).listen(0, '127.0.0.1', () => resolve(s)));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function client(baseUrl: string, token?: string) {
  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...opts.headers,
    };
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* non-JSON body stays text */
    }
    // Every 2xx answer is held to its endpoint's declared response (status, content type, schema).
    checkResponse(method, path, {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: parsed,
    });
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
  return {
    get: <T = any>(p: string, o?: Parameters<typeof call>[2]) => call<T>('GET', p, o),
    post: <T = any>(p: string, body?: unknown, o?: Parameters<typeof call>[2]) =>
      call<T>('POST', p, { ...o, body }),
    call,
  };
}

export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/**
 * An AbortController that aborts once `ready()` holds (e.g. the fake provider has received the call), so an
 * "abort mid-call" test never aborts before the call is in flight on a slow machine (that is another path).
 */
export function abortWhen(ready: () => Promise<boolean> | boolean, timeoutMs = 10_000): AbortController {
  const controller = new AbortController();
  void eventually(async () => ready(), timeoutMs, 10).then(
    () => controller.abort(),
    () => controller.abort(),
  );
  return controller;
}
