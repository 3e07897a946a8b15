import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '@raptorflow/core/errors/app-error';
import { sendError } from '../http/error.middleware';

/**
 * The console (web/, a Vite single-page app built to web/dist) served at `/` by the gateway itself, so it
 * shares the API's origin: no CORS, and its CSP can allow exactly 'self'. Plain middleware, not endpoints:
 * files are not API operations (nor are /docs/assets).
 *
 * - `/assets/*` are Vite's content-hashed files: cached for a year, immutable (a new build has new names);
 *   an unknown one is a JSON 404 like any unknown path.
 * - `/`, `/index.html` and the other files at the root of the build: `no-cache` (revalidated every time, so a
 *   deploy is picked up at the next load).
 * - Any other GET/HEAD that asks for HTML outside the API's own paths gets index.html: the app's router
 *   owns those URLs (a reload on /runs/123 must not be a 404).
 */

/** Paths that belong to the API (and its pages): never answered with the console. */
const SERVER_PATHS = ['/v1', '/admin', '/docs', '/health', '/metrics', '/openapi.json'];

const YEAR_SECONDS = 365 * 24 * 3600;

export interface ConsoleStaticOptions {
  /** The Vite build (web/dist); undefined = no console in this process (tests that do not need one). */
  dir: string | undefined;
  /** SUPABASE_URL: the console talks to Supabase Auth from the browser, so its origin joins connect-src. */
  supabaseUrl: string | undefined;
}

/**
 * The page's own policy (the API's is default-src 'none'). Vite emits no inline script or style (checked:
 * index.html links one module script and one stylesheet under /assets), so 'unsafe-inline' is not needed;
 * style changes made from script through the CSSOM (React's `style` prop) are not governed by style-src.
 */
export function consoleCsp(supabaseUrl: string | undefined): string {
  const supabase = supabaseUrl ? ` ${new URL(supabaseUrl).origin}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${supabase}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const isServerPath = (p: string) => SERVER_PATHS.some((s) => p === s || p.startsWith(`${s}/`));

/** A browser navigation names text/html; fetch() and API clients send `*\/*` or JSON and get JSON 404s. */
const wantsHtml = (req: Request) =>
  /\b(text\/html|application\/xhtml\+xml)\b/i.test(req.get('accept') ?? '') && Boolean(req.accepts('html'));

const HINT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RaptorFlow console not built</title></head>
<body><h1>The console is not built yet</h1>
<p>Run <code>npm run build:web</code> (or <code>npm run build</code>) and reload this page.
<code>npm start</code> builds it by itself when it is missing.</p>
<p>The API is up: <a href="/docs">/docs</a>, <a href="/health">/health</a>.</p></body></html>
`;

const HINT_MESSAGE =
  'The console is not built: run `npm run build:web` (or `npm run build`), then reload. The API is at /v1, its docs at /docs.';

export function consoleStatic(opts: ConsoleStaticOptions): RequestHandler {
  const csp = consoleCsp(opts.supabaseUrl);
  const dir = opts.dir ? path.resolve(opts.dir) : undefined;
  const index = dir ? path.join(dir, 'index.html') : undefined;
  const files = dir
    ? express.static(dir, {
        index: false,
        redirect: false,
        cacheControl: false,
        setHeaders: (res, file) => {
          const hashed = path.relative(dir, file).startsWith(`assets${path.sep}`);
          res.setHeader('Cache-Control', hashed ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache');
          if (file.endsWith('.html')) res.setHeader('Content-Security-Policy', csp);
        },
      })
    : undefined;

  const sendIndex = (res: Response, next: (err?: unknown) => void) => {
    res.setHeader('Content-Security-Policy', csp);
    res.sendFile(index!, { cacheControl: false, headers: { 'Cache-Control': 'no-cache' } }, (err) => {
      // Gone between the check and the read (a build is replacing web/dist): an unknown path for now.
      if (err) next((err as { status?: number }).status === 404 ? undefined : err);
    });
  };

  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (isServerPath(req.path)) return next();
    // Checked per request: `npm run build:web` may finish while the gateway runs.
    if (!index || !files || !fs.existsSync(index)) {
      if (req.path !== '/') return next();
      return hint(req, res);
    }
    if (req.path === '/') return sendIndex(res, next);
    files(req, res, (err?: unknown) => {
      if (err) return next(err);
      // An unknown hashed asset stays a 404: answering it with HTML would only hide a stale reference.
      if (req.path.startsWith('/assets/') || !wantsHtml(req)) return next();
      sendIndex(res, next);
    });
  };
}

/** `/` before the console is built: say how to build it, in HTML for a browser, in the error shape otherwise. */
function hint(req: Request, res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  if (wantsHtml(req)) {
    res.status(404).type('html').send(HINT_HTML);
    return;
  }
  sendError(res, new AppError('console_not_built', 404, HINT_MESSAGE));
}
