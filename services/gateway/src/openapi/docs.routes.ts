import path from 'node:path';
import express from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { endpointFactory } from '../http/endpoint';

// swagger-ui-dist ships its assets as files; serving them ourselves keeps /docs working offline (no CDN).
const swaggerUiDir: string = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RaptorFlow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

/** The page gets its own CSP: same-origin scripts, inline styles. */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export interface DocsRoutesDeps {
  /** Built once per app from the endpoint registry (openapi/openapi.document.ts). */
  openApiDocument: unknown;
}

const define = endpointFactory<DocsRoutesDeps>();

/** `/openapi.json` and the `/docs` page. */
export const docsEndpoints = [
  define({
    method: 'get',
    path: '/openapi.json',
    role: 'none',
    tags: ['docs'],
    summary: 'This document',
    responses: {
      200: { schema: z.object({ openapi: z.string() }).loose(), description: 'OpenAPI 3.1, generated' },
    },
    handler: ({ res }, { openApiDocument }) => {
      res.json(openApiDocument);
    },
  }),
  define({
    method: 'get',
    path: '/docs',
    role: 'none',
    tags: ['docs'],
    summary: 'Swagger UI over /openapi.json (served from node_modules, works offline)',
    responses: { 200: { contentType: 'text/html', schema: z.string(), description: 'The page' } },
    handler: ({ res }) => {
      res.setHeader('Content-Security-Policy', CSP);
      res.type('html').send(PAGE);
    },
  }),
  define({
    method: 'get',
    path: '/docs/init.js',
    role: 'none',
    tags: ['docs'],
    summary: "The docs page's start-up script",
    responses: {
      200: { contentType: 'application/javascript', schema: z.string(), description: 'The script' },
    },
    handler: ({ res }) => {
      res.type('application/javascript').send(INIT);
    },
  }),
];

/** Swagger UI's files under /docs/assets: static files, not endpoints. */
export function docsAssets(): RequestHandler[] {
  return [
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', CSP);
      next();
    },
    express.static(swaggerUiDir, { index: false, maxAge: '1h' }),
  ];
}
